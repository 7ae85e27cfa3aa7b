#!/usr/bin/env bash
# Test certificates for trying raftcached's TLS: a cluster CA and, signed by it, a client-facing
# server certificate, a client certificate (for ssl_verify_mode=2/3 and mtls: listeners), and a
# peer certificate the members present to each other (--peer-cert, usable as client and server).
# For negative tests it also writes a client signed by another CA (untrusted-client.*) and a
# client whose validity ended in 2021 (expired-client.*).
#
#   deploy/tls/make-test-certs.sh [DIR] [EXTRA_SAN ...]
#
# DIR defaults to ./certs. Every certificate names localhost and 127.0.0.1; each EXTRA_SAN adds a
# DNS name (or an IP address if it looks like one), e.g. the Kubernetes service names.
# Keys are unencrypted PKCS#8 PEM (what memcached and Netty both read); do not use these in production.
set -euo pipefail

dir=${1:-certs}
shift || true
days=${RAFTCACHED_CERT_DAYS:-825}
command -v openssl >/dev/null || { echo "make-test-certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"

san="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
done

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# new_ca NAME CN
new_ca() {
    new_key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days "$days" -subj "/O=raftcached test/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.crt"
}

# sign NAME CN EXTENDED_KEY_USAGE CA
sign() {
    new_key "$1.key"
    openssl req -new -key "$1.key" -subj "/O=raftcached test/CN=$2" -out "$1.csr"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
        "$3" "$san" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -CAcreateserial -sha256 -days "$days" \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

new_ca ca "raftcached test CA"
sign server "raftcached server" serverAuth ca
sign client "raftcached client" clientAuth ca
sign peer "raftcached peer" serverAuth,clientAuth ca

# A client (and would-be peer) of a stranger: same names, another CA.
new_ca other-ca "another CA"
sign untrusted-client "raftcached client" serverAuth,clientAuth other-ca

# A certificate that expired long ago: `openssl ca` is the one tool here that takes explicit dates.
mkdir -p expired-ca.d
: > expired-ca.d/index.txt
printf '[ca]\ndefault_ca=test\n[test]\ndatabase=expired-ca.d/index.txt\nnew_certs_dir=expired-ca.d\nserial=expired-ca.d/serial\ndefault_md=sha256\npolicy=any\ncopy_extensions=none\n[any]\ncommonName=supplied\n' > expired-ca.d/ca.cnf
echo 01 > expired-ca.d/serial
new_key expired-client.key
openssl req -new -key expired-client.key -subj "/CN=raftcached expired client" -out expired-client.csr
openssl ca -batch -notext -config expired-ca.d/ca.cnf -cert ca.crt -keyfile ca.key -in expired-client.csr \
    -startdate 20200101000000Z -enddate 20210101000000Z -out expired-client.crt 2>/dev/null
rm -rf expired-ca.d expired-client.csr ca.srl other-ca.srl

chmod 600 ./*.key
echo "wrote $(ls | tr '\n' ' ')to $PWD"
