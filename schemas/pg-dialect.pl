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
#
# pg-dialect.pl --checks db-*.sql writes a C array instead: for every
# CHECK constraint, its table, the name PostgreSQL gives it
# (TABLE_COLUMN_check for a column's, TABLE_check for the table's, the
# CONSTRAINT name where one is given) and the words SQLite's message
# quotes (the expression as written, or the name), so that a row
# PostgreSQL refuses is rejected in SQLite's words.
use strict;
use warnings;

local $/;

sub c_str {
	my ($s) = @_;
	$s =~ s/\\/\\\\/g;
	$s =~ s/"/\\"/g;
	$s =~ s/\t/\\t/g;
	$s =~ s/\n/\\n/g;
	return "\"$s\"";
}

# The text inside the parenthesis that opens at $s's start.
sub balanced {
	my ($s) = @_;
	my ($depth, $q, $i) = (0, 0, 0);
	for ($i = 0; $i < length $s; $i++) {
		my $c = substr($s, $i, 1);
		if ($c eq "'") {
			$q = !$q;
		} elsif (!$q && $c eq '(') {
			$depth++;
		} elsif (!$q && $c eq ')' && --$depth == 0) {
			return substr($s, 1, $i - 1);
		}
	}
	die "pg-dialect.pl: unbalanced CHECK\n";
}

if (@ARGV && $ARGV[0] eq '--checks') {
	shift @ARGV;
	print "static const struct { const char *table, *name, *sqlite; }\n";
	print "    dbpg_checks[] = {\n";
	for my $f (@ARGV) {
		open(my $fh, '<', $f) or die "pg-dialect.pl: $f: $!\n";
		my $ddl = <$fh>;
		close $fh;
		$ddl =~ s/--[^\n]*//g;
		while ($ddl =~ /CREATE TABLE (\w+) \((.*?)\n\)/sg) {
			my ($t, $body) = ($1, $2);
			my $col = '';
			while ($body =~ /\G(.*?)(?:(\bCONSTRAINT\s+(\w+)\s+)?CHECK\s*(?=\())/sgc) {
				my ($before, $named) = ($1, $3);
				# The column this CHECK stands in: the last
				# definition that starts a line before it.
				$col = $1 while $before =~ /^\t(\w+)/mg;
				# After a comma: a constraint of the table.
				my $lead = $before =~ /,\s*$/;
				my $rest = substr($body, pos($body));
				my $expr = balanced($rest);
				my ($name, $words);
				if (defined $named) {
					($name, $words) = ($named, $named);
				} elsif ($lead) {
					($name, $words) = ("${t}_check", $expr);
				} else {
					($name, $words) = ("${t}_${col}_check", $expr);
				}
				printf "\t{ %s, %s,\n\t    %s },\n", c_str($t),
				    c_str($name), c_str($words);
				pos($body) += length($expr) + 2;
			}
		}
	}
	print "};\n";
	exit 0;
}

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
