#!/usr/bin/perl
# pg-dialect.pl: rewrite an asin-db migration (schemas/db-NNNN-*.sql,
# written for SQLite) for PostgreSQL.  The one place the two dialects
# differ: the migrations stay one source, this script generates the
# PostgreSQL text at build time (make), so a new migration needs no
# second copy.
#   INTEGER -> BIGINT (SQLite integers are 64-bit)
#   REAL -> DOUBLE PRECISION
#   TEXT -> TEXT COLLATE "C" (byte order, as SQLite's BINARY)
#   a column without a type -> JSONB (keeps a number or a string as it
#       came, as SQLite's typeless column does)
#   x GLOB 'p' -> x ~ '^re$', x NOT GLOB 'p' -> x !~ '^re$'
#   ) WITHOUT ROWID; -> );
# JSON and BOOLEAN mean the same in both.
use strict;
use warnings;

local $/;
my $sql = <>;

sub glob2re {
	my ($g) = @_;
	my $re = '';
	while (length $g) {
		if ($g =~ s/^(\[[^\]]*\])//) {
			$re .= $1;
		} elsif ($g =~ s/^\*//) {
			$re .= '.*';
		} elsif ($g =~ s/^\?//) {
			$re .= '.';
		} else {
			my $c = substr($g, 0, 1, '');
			$re .= $c =~ /[A-Za-z0-9 _-]/ ? $c : "\\$c";
		}
	}
	return "^$re\$";
}

$sql =~ s/\bINTEGER\b/BIGINT/g;
$sql =~ s/\bREAL\b/DOUBLE PRECISION/g;
# Text compares and sorts by its bytes, as SQLite's BINARY does, whatever
# the database's locale.
$sql =~ s/\bTEXT\b/TEXT COLLATE "C"/g;
$sql =~ s/^(\t[a-z_][a-z0-9_]*)(?=(?: NOT NULL)?,?$)/$1 JSONB/mg;
$sql =~ s{(\bNOT\s+)?GLOB(\s+)'([^']*)'}
    {($1 ? '!~' : '~') . $2 . "'" . glob2re($3) . "'"}ge;
$sql =~ s/\)\s*WITHOUT ROWID;/);/g;
print $sql;
