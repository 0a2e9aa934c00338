#!/usr/bin/env bash
# Generate throwaway TLS material for the tests into DIR (created if need be):
#
#   ca.pem, ca-key.pem          a test CA
#   server.pem, server-key.pem  a server certificate signed by it, naming only
#                               IP:127.0.0.1 -- so https://127.0.0.1:PORT
#                               verifies and https://localhost:PORT is a
#                               host-name mismatch, both on loopback
#   other-ca.pem                an unrelated CA that signed nothing we serve
#
# Certificates are world-readable and DIR traversable, so that a PostgreSQL
# server running as another OS user (postgres) can read ca.pem; the private
# keys stay private to the user running the emulator.
#
# Usage: test/tls_setup.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir"/*.pem "$dir"/*.csr "$dir"/*.cnf
chmod 755 "$dir"
umask 077

# a minimal configuration, so the system's openssl.cnf does not matter
cat >"$dir/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = bls_fdw test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
sed 's/^CN = .*/CN = bls_fdw unrelated test CA/' "$dir/ca.cnf" >"$dir/other-ca.cnf"

cat >"$dir/server.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = bls-emulator.test
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF

gen_ca() {
	openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
		-config "$dir/$1.cnf" -keyout "$dir/$1-key.pem" -out "$dir/$1.pem" 2>/dev/null
}
gen_ca ca
gen_ca other-ca
rm -f "$dir/other-ca-key.pem"

openssl req -new -newkey rsa:2048 -nodes -sha256 -config "$dir/server.cnf" \
	-keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
openssl x509 -req -sha256 -days 3650 -in "$dir/server.csr" \
	-CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -set_serial "0x$(openssl rand -hex 8)" \
	-extfile "$dir/server.cnf" -extensions v3_server -out "$dir/server.pem" 2>/dev/null
rm -f "$dir/server.csr" "$dir"/*.cnf

chmod 644 "$dir/ca.pem" "$dir/other-ca.pem" "$dir/server.pem"
openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null
