policy tt {
    table inet tt;
}
trust {
 a_service_with_a_long_name b c
  r1 allow - deny
 a_source_with_a_long_name - - -

 r3     deny deny deny }
