policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.256;
    via "wg0" from 10.0.1.256;
    via "wg0" from 10.0.2.256;
    via "wg0" from 10.0.3.256;
    via "wg0" from 10.0.4.256;
    via "wg0" from 10.0.5.256;
    via "wg0" from 10.0.6.256;
    via "wg0" from 10.0.7.256;
    via "wg0" from 10.0.8.256;
    via "wg0" from 10.0.9.256;
    via "wg0" from 10.0.10.256;
    via "wg0" from 10.0.11.256;
    via "wg0" from 10.0.12.256;
    via "wg0" from 10.0.13.256;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    laptop allow
    anyone deny
}
