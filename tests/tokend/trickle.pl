#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
# trickle.pl SOCKET N SECONDS: a slow peer. Opens N connections to the unix
# socket SOCKET (or, for tcp:HOST:PORT:FROM, to HOST:PORT from the address
# FROM), starts a request on each and then sends one more header byte every
# half second, never finishing it, for at most SECONDS. Prints how many
# connected and how many of those the server closed.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Socket::UNIX;

my ($path, $n, $secs) = @ARGV;
$SIG{PIPE} = 'IGNORE';
my @conns;
for (1 .. $n) {
	my $c = $path =~ /^tcp:([^:]+):(\d+):(.+)$/
		? IO::Socket::INET->new(PeerAddr => $1, PeerPort => $2, LocalAddr => $3,
					Proto => 'tcp')
		: IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path);
	next unless $c;
	$c->blocking(0);
	syswrite($c, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
	push @conns, $c;
}
my %open = map { ("$_" => $_) } @conns;
my $t0 = time;
while (%open && time - $t0 < $secs) {
	for my $k (keys %open) {
		my $c = $open{$k};
		my $r = sysread($c, my $buf, 4096);
		if ((defined $r && $r == 0) || (!defined $r && !$!{EAGAIN})) {
			delete $open{$k};
			next;
		}
		delete $open{$k} if !defined(syswrite($c, "x")) && !$!{EAGAIN};
	}
	select(undef, undef, undef, 0.5);
}
printf "%d connected, %d closed by the server\n", scalar(@conns),
	scalar(@conns) - scalar(keys %open);
