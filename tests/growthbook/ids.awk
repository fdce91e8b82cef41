# ids.awk: n synthetic ASINs, "B0" + 8 of [0-9A-Z], from a Lehmer
# generator seeded with s.  Integer arithmetic only, so every awk writes
# the same IDs.  awk -v n=N -v s=SEED -f ids.awk
BEGIN {
	a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for (i = 0; i < n; i++) {
		id = "B0"
		for (j = 0; j < 8; j++) {
			s = (s * 48271) % 2147483647
			id = id substr(a, s % 36 + 1, 1)
		}
		print id
	}
}
