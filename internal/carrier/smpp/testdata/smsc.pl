#!/usr/bin/perl
# A small SMSC for Switchboard's SMPP tests, built on Debian's Net::SMPP
# (libnet-smpp-perl): an SMPP implementation nobody on the project wrote.
#
#   smsc.pl --system-id ID --password PW --log FILE [--port N]
#           [--fail-dest PREFIX] [--reject-dest PREFIX] [--throttle N]
#           [--exit-after N] [--receipt-tlv]
#
# It listens on 127.0.0.1 (port 0: any free one) and prints one JSON object
# per line on stdout: {"event":"listening","port":N} first, then bind,
# submit (each submit_sm, decoded), message (a whole text, concatenated
# parts put together), receipt_acked, mo_acked (with the status of the
# deliver_sm_resp). Accepted submissions are appended to --log before their
# submit_sm_resp; a receipt is sent for each (stat:DELIVRD, or UNDELIV for
# destinations starting with --fail-dest) and marked done in the log when
# the ESME answers it, so a restarted SMSC on the same log sends the
# receipts still owed. --reject-dest refuses submissions for good
# (ESME_RINVDSTADR), --throttle answers the first N submit_sm with
# ESME_RTHROTTLED, --exit-after ends the process right after the N-th
# accepted submit_sm_resp (a crash between two messages: submit_sm still in
# flight are never read, so never accepted).
#
# Commands on stdin, one a line:
#   mo FROM TO UMR HEXTEXT [PARTS]   a mobile-originated SMS (text as UTF-8 hex),
#                                    with user_message_reference UMR, in PARTS parts
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use Getopt::Long;
use JSON::PP;
use Encode qw(decode encode);
use POSIX ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);

my %o = (port => 0, throttle => 0, 'exit-after' => 0);
GetOptions(\%o, 'system-id=s', 'password=s', 'log=s', 'port=i', 'fail-dest=s', 'reject-dest=s',
	   'throttle=i', 'exit-after=i', 'receipt-tlv') or die "bad arguments\n";
defined $o{$_} or die "--$_ is required\n" for qw(system-id password log);

$| = 1;
my $json = JSON::PP->new->canonical->utf8;
sub out { print $json->encode({@_}), "\n" }

# The log: "S id src dst" for each accepted submission, "R id" once its
# receipt was answered.
my (%owed, @order);
if (open my $in, '<', $o{log}) {
    while (<$in>) {
	chomp;
	my @f = split / /;
	if ($f[0] eq 'S') { $owed{$f[1]} = [@f[2, 3]]; push @order, $f[1] }
	elsif ($f[0] eq 'R') { delete $owed{$f[1]} }
    }
    close $in;
}
my $next_id = 1000 + scalar(@order);
open my $log, '>>', $o{log} or die "log $o{log}: $!\n";
$log->autoflush(1);
my @queue = grep { $owed{$_} } @order;  # receipts to send, oldest first

my $listener = Net::SMPP->new_listen('127.0.0.1', port => $o{port}) or die "listen: $!\n";
out(event => 'listening', port => $listener->sockport);

my $sel = IO::Select->new($listener, \*STDIN);
my %conn;      # fileno -> {smpp, mode, inflight => {seq => [kind, id]}}
my %parts;     # concatenation ref -> [parts]
my $accepted = 0;
my $throttled = 0;
my $stdin = '';

sub receiver {
    for my $c (values %conn) {
	return $c if $c->{mode} && $c->{mode} ne 'transmitter';
    }
    return undef;
}

sub drop {
    my $c = shift;
    $sel->remove($c->{smpp});
    delete $conn{fileno($c->{smpp})};
    # Receipts not answered go back to the queue: the next bind gets them.
    for my $seq (sort { $a <=> $b } keys %{$c->{inflight}}) {
	my ($kind, $id) = @{$c->{inflight}{$seq}};
	unshift @queue, $id if $kind eq 'receipt';
    }
    close $c->{smpp};
}

sub flush_receipts {
    my $c = receiver() or return;
    while (my $id = shift @queue) {
	next unless $owed{$id};
	my ($src, $dst) = @{$owed{$id}};
	my $stat = defined $o{'fail-dest'} && index($dst, $o{'fail-dest'}) == 0 ? 'UNDELIV' : 'DELIVRD';
	my $err = $stat eq 'DELIVRD' ? '000' : '001';
	my $date = POSIX::strftime('%y%m%d%H%M', gmtime);
	my $text = "id:$id sub:001 dlvrd:" . ($stat eq 'DELIVRD' ? '001' : '000') .
	    " submit date:$date done date:$date stat:$stat err:$err text:";
	my @tlv = $o{'receipt-tlv'} ? (receipted_message_id => "$id\0", message_state => pack('C', $stat eq 'DELIVRD' ? 2 : 5)) : ();
	my $seq = $c->{smpp}->deliver_sm(async => 1, source_addr_ton => 1, source_addr_npi => 1, source_addr => $dst,
				dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $src,
				esm_class => 0x04, data_coding => 0, short_message => $text, @tlv);
	$c->{inflight}{$seq} = ['receipt', $id];
    }
}

sub text_of {
    my ($coding, $bytes) = @_;
    return decode('UTF-16BE', $bytes) if $coding == 8;
    return $bytes;  # GSM 03.38 unpacked: the tests use its ASCII subset
}

sub submit {
    my ($c, $pdu) = @_;
    my $smpp = $c->{smpp};
    if ($throttled < $o{throttle}) {
	$throttled++;
	out(event => 'throttled', dst => $pdu->{destination_addr});
	$smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x58, message_id => '');
	return;
    }
    if (defined $o{'reject-dest'} && index($pdu->{destination_addr}, $o{'reject-dest'}) == 0) {
	out(event => 'rejected', dst => $pdu->{destination_addr});
	$smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x0B, message_id => '');
	return;
    }
    my $sm = $pdu->{short_message};
    $sm = $pdu->{message_payload} if !length($sm) && defined $pdu->{message_payload};
    my ($ref, $total, $n) = (undef, 1, 1);
    if ($pdu->{esm_class} & 0x40) {
	my $udhl = ord(substr($sm, 0, 1));
	my $udh = substr($sm, 1, $udhl);
	$sm = substr($sm, 1 + $udhl);
	while (length $udh >= 2) {
	    my ($iei, $len) = unpack 'CC', $udh;
	    my $val = substr($udh, 2, $len);
	    ($ref, $total, $n) = unpack 'CCC', $val if $iei == 0x00;
	    ($ref, $total, $n) = unpack 'nCC', $val if $iei == 0x08;
	    $udh = substr($udh, 2 + $len);
	}
    }
    my $text = text_of($pdu->{data_coding}, $sm);
    my $id = 'M' . $next_id++;
    print $log "S $id $pdu->{source_addr} $pdu->{destination_addr}\n";
    $owed{$id} = [$pdu->{source_addr}, $pdu->{destination_addr}];
    out(event => 'submit', id => $id, src => $pdu->{source_addr}, dst => $pdu->{destination_addr},
	src_ton => $pdu->{source_addr_ton}, dst_ton => $pdu->{dest_addr_ton}, data_coding => $pdu->{data_coding},
	registered_delivery => $pdu->{registered_delivery}, esm_class => $pdu->{esm_class},
	ref => $ref, part => $n, parts => $total, text => $text, payload => defined $pdu->{message_payload} ? JSON::PP::true : JSON::PP::false);
    $smpp->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
    $accepted++;
    if ($o{'exit-after'} && $accepted >= $o{'exit-after'}) {
	out(event => 'exiting');
	# Stop like a crashed SMSC whose answers were already on the wire:
	# FIN after them, and what the ESME sent meanwhile is dropped unread.
	# (Closing with unread data would send a TCP reset, which can destroy
	# answers still in the ESME's receive buffer.)
	shutdown($smpp, 1);
	local $SIG{ALRM} = sub { POSIX::_exit(0) };
	alarm 5;
	my $junk;
	1 while sysread($smpp, $junk, 65536);
	POSIX::_exit(0);
    }
    my @whole;
    if ($total == 1) {
	@whole = ($text, [$id]);
    } else {
	my $key = "$pdu->{source_addr}|$pdu->{destination_addr}|$ref";
	$parts{$key}[$n - 1] = [$text, $id];
	my @got = grep { defined } @{$parts{$key}};
	if (@got == $total) {
	    @whole = (join('', map { $_->[0] } @{$parts{$key}}), [map { $_->[1] } @{$parts{$key}}]);
	    delete $parts{$key};
	}
    }
    out(event => 'message', src => $pdu->{source_addr}, dst => $pdu->{destination_addr}, text => $whole[0], ids => $whole[1],
	parts => $total, data_coding => $pdu->{data_coding}) if @whole;
    push @queue, $id;
    flush_receipts();
}

sub mo {
    my ($from, $to, $umr, $hex, $nparts) = @_;
    my $c = receiver() or do { out(event => 'mo_failed', reason => 'no receiver bound'); return };
    my $text = decode('UTF-8', pack('H*', $hex));
    my $gsm = $text =~ /^[A-Za-z0-9 .,!?'"()+\-:;\/]*$/;
    my $coding = $gsm ? 0 : 8;
    $nparts ||= 1;
    my $len = length($text);
    my $size = int(($len + $nparts - 1) / $nparts);
    my $ref = int(rand(256));
    for my $i (0 .. $nparts - 1) {
	my $chunk = substr($text, $i * $size, $size);
	my $bytes = $gsm ? encode('ascii', $chunk) : encode('UTF-16BE', $chunk);
	my $esm = 0;
	if ($nparts > 1) {
	    $bytes = pack('CCCCCC', 5, 0, 3, $ref, $nparts, $i + 1) . $bytes;
	    $esm = 0x40;
	}
	my $seq = $c->{smpp}->deliver_sm(async => 1, source_addr_ton => 1, source_addr_npi => 1, source_addr => $from,
				dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $to,
				esm_class => $esm, data_coding => $coding, short_message => $bytes,
				user_message_reference => pack('n', $umr));
	$c->{inflight}{$seq} = ['mo', "$from>$to#$umr"];
    }
}

while (1) {
    for my $fh ($sel->can_read(0.2)) {
	if ($fh == $listener) {
	    my $s = $listener->accept or next;
	    # Each PDU goes out at once: Nagle would hold a receipt written
	    # right after a submit_sm_resp until the ESME's delayed ACK.
	    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
	    $conn{fileno($s)} = {smpp => $s, inflight => {}};
	    $sel->add($s);
	    next;
	}
	if ($fh == \*STDIN) {
	    # sysread, not <STDIN>: a buffered read would hide lines from select.
	    my $n = sysread(STDIN, $stdin, 65536, length $stdin);
	    if (!$n) { $sel->remove(\*STDIN); next }
	    while ($stdin =~ s/^([^\n]*)\n//) {
		my ($cmd, @args) = split ' ', $1;
		mo(@args) if defined $cmd && $cmd eq 'mo';
	    }
	    next;
	}
	my $c = $conn{fileno($fh)} or next;
	my $pdu = $c->{smpp}->read_pdu;
	if (!$pdu) { out(event => 'disconnected'); drop($c); next }
	my $cmd = $pdu->{cmd};
	if ($cmd == 0x09 || $cmd == 0x02 || $cmd == 0x01) {
	    my $mode = {9 => 'transceiver', 2 => 'transmitter', 1 => 'receiver'}->{$cmd};
	    my $ok = $pdu->{system_id} eq $o{'system-id'} && $pdu->{password} eq $o{password};
	    my $resp = {9 => 'bind_transceiver_resp', 2 => 'bind_transmitter_resp', 1 => 'bind_receiver_resp'}->{$cmd};
	    $c->{smpp}->$resp(seq => $pdu->{seq}, status => $ok ? 0 : 0x0E, system_id => 'perlsmsc');
	    out(event => 'bind', mode => $mode, system_id => $pdu->{system_id}, system_type => $pdu->{system_type}, ok => $ok ? JSON::PP::true : JSON::PP::false);
	    if ($ok) { $c->{mode} = $mode; flush_receipts() } else { drop($c) }
	} elsif (!$c->{mode}) {
	    $c->{smpp}->generic_nack(seq => $pdu->{seq}, status => 0x04);
	} elsif ($cmd == 0x04) {
	    submit($c, $pdu);
	} elsif ($cmd == 0x80000005) {
	    my $what = delete $c->{inflight}{$pdu->{seq}} or next;
	    my ($kind, $id) = @$what;
	    if ($kind eq 'receipt') {
		if ($pdu->{status} == 0) {
		    print $log "R $id\n";
		    delete $owed{$id};
		    out(event => 'receipt_acked', id => $id);
		} else {
		    push @queue, $id;  # refused for now: offered again on the next bind
		}
	    } else {
		out(event => 'mo_acked', mo => $id, status => $pdu->{status});
	    }
	} elsif ($cmd == 0x15) {
	    $c->{smpp}->enquire_link_resp(seq => $pdu->{seq});
	} elsif ($cmd == 0x06) {
	    $c->{smpp}->unbind_resp(seq => $pdu->{seq});
	    drop($c);
	}
    }
}
