#!/bin/sh
# runtime/fuzz/seeds.sh DIR - starting corpora for the IDX and CSV fuzzers.
set -eu
D=$1
mkdir -p "$D/idx" "$D/csv"
printf '\000\000\010\001\000\000\000\003abc' > "$D/idx/u8"
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\001abcd' > "$D/idx/u8_3d"
printf '\000\000\013\001\000\000\000\002\001\002\377\376' > "$D/idx/i16"
printf '\000\000\011\001\000\000\000\002\001\377' > "$D/idx/i8"
printf '\000\000\014\001\000\000\000\001\000\000\000\007' > "$D/idx/i32"
printf '\000\000\015\001\000\000\000\001\077\300\000\000' > "$D/idx/f32"
printf '\000\000\016\001\000\000\000\001\077\370\000\000\000\000\000\000' > "$D/idx/f64"
gzip -c "$D/idx/u8_3d" > "$D/idx/u8_3d.gz"
gzip -c "$D/idx/f64" > "$D/idx/f64.gz"
# two gzip members (as cat a.gz b.gz makes), and one with a garbage tail
head -c 6 "$D/idx/u8" | gzip -c > "$D/idx/m1" && tail -c +7 "$D/idx/u8" | gzip -c > "$D/idx/m2"
cat "$D/idx/m1" "$D/idx/m2" > "$D/idx/u8_two.gz" && rm "$D/idx/m1" "$D/idx/m2"
{ cat "$D/idx/u8_3d.gz"; printf 'junk'; } > "$D/idx/u8_tail.gz"
# CSV inputs: byte 0 selects the options, byte 1 the pandas ones (see fuzz_csv.c)
printf '\004\000a,b\n1,2.5\n-3e2,4\n' > "$D/csv/header"
printf '\000\0001,2\r\n\n3,4\n' > "$D/csv/crlf"
printf '\003\000 1  2\t3\n4 5 6\n' > "$D/csv/ws"
printf '\041\000nan,inf\n-Infinity,"1"\n' > "$D/csv/nonfinite"
printf '\010\0000x1A,1e400\n1.2.3,\n' > "$D/csv/bad"
printf '1,2\n3,4\n' | gzip -c > "$D/csv/gz.raw" && { printf '\000\000'; cat "$D/csv/gz.raw"; } > "$D/csv/gz" && rm "$D/csv/gz.raw"
# short and long lines (errors, or skipped / warned), nrows, usecols patterns
printf '\002\0001 2 3 1\n4 5 6 2\n7 8\n' > "$D/csv/short"
printf '\000\0011,2\n3,4,5\n6,7\n8,x,9\n10\n' > "$D/csv/skip"
printf '\004\002a,b\n1,2,3\n4,5\n' > "$D/csv/warn"
printf '\000\0141,2\n3,4\nabc,5\n6,7,8\n' > "$D/csv/nrows2"
printf '\004\004a,b,c\n1,2,3\n' > "$D/csv/nrows0"
printf '\004\200id,x,name,y\nr1,1.5,bob,2\nr2,3,alice,-4e1\n' > "$D/csv/usecols"
printf '\000\3401,2\n3,4\n' > "$D/csv/usecols_out"
