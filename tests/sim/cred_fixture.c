/* Test certificates through the openssl CLI (cred_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_keyset.h"
#include "cred_fixture.h"

static char dir[64];

static void run(const char *command)
{
    char line[2048];
    snprintf(line, sizeof line, "cd %s && %s >/dev/null 2>&1", dir, command);
    if (system(line) != 0) {
        fprintf(stderr, "cred_fixture: failed: %s\n", command);
        exit(1);
    }
}

static size_t slurp(const char *name, uint8_t *out, size_t max)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(out, 1, max, f) : 0;
    if (f == NULL || n == 0 || n == max) {
        fprintf(stderr, "cred_fixture: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return n;
}

void cred_fixture_init(void)
{
    if (dir[0] != '\0') {
        return;
    }
    strcpy(dir, "/tmp/bw-cred-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    for (int i = 0; i < 2; i++) {
        char command[512];
        const char *name = i == 0 ? "ca" : "rogue";
        snprintf(command, sizeof command,
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                 "-keyout %s.key -out %s.crt -subj /CN=%s -days 30 "
                 "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
                 name, name, name);
        run(command);
    }
    run("printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth\\n' > client.ext");
    run("openssl x509 -in ca.crt -outform DER -out ca.der");
}

size_t cred_fixture_ca_der(uint8_t *out, size_t max)
{
    return slurp("ca.der", out, max);
}

size_t cred_fixture_sign(const char *ca, const uint8_t *csr, size_t csr_len, unsigned serial,
                         uint8_t *out, size_t max)
{
    char path[128], command[512];
    snprintf(path, sizeof path, "%s/req.der", dir);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(csr, 1, csr_len, f) != csr_len || fclose(f) != 0) {
        fprintf(stderr, "cred_fixture: cannot write %s\n", path);
        exit(1);
    }
    snprintf(command, sizeof command,
             "openssl x509 -req -inform DER -in req.der -CA %s.crt -CAkey %s.key -set_serial %u "
             "-days 30 -extfile client.ext -outform DER -out cert.der", ca, ca, serial);
    run(command);
    return slurp("cert.der", out, max);
}

void cred_fixture_new_key(const char *name, uint8_t point[65])
{
    char command[512], file[128];
    snprintf(command, sizeof command,
             "openssl ecparam -name prime256v1 -genkey -noout -out %s.key && "
             "openssl ec -in %s.key -pubout -outform DER -out %s.spki", name, name, name);
    run(command);
    uint8_t spki[128];
    snprintf(file, sizeof file, "%s.spki", name);
    size_t n = slurp(file, spki, sizeof spki);
    memcpy(point, spki + n - 65, 65);   /* SubjectPublicKeyInfo ends with the point */
}

/* One DER INTEGER at *p into 32 bytes, big-endian. */
static const uint8_t *der_integer(const uint8_t *p, uint8_t out[32])
{
    size_t len = p[1];
    const uint8_t *v = p + 2;
    while (len > 32) {
        v++, len--;   /* a leading 0 keeps it positive */
    }
    memset(out, 0, 32);
    memcpy(out + 32 - len, v, len);
    return p + 2 + p[1];
}

size_t cred_fixture_keyset(const char *ca, uint32_t sequence, const uint8_t (*keys)[65], uint32_t count,
                           uint8_t *out, size_t max)
{
    size_t signed_len = bw_keyset_write_signed_part(sequence, keys, count, out, max);
    char path[128], command[512];
    snprintf(path, sizeof path, "%s/keyset.bin", dir);
    FILE *f = fopen(path, "wb");
    if (signed_len == 0 || f == NULL || fwrite(out, 1, signed_len, f) != signed_len || fclose(f) != 0) {
        fprintf(stderr, "cred_fixture: cannot write %s\n", path);
        exit(1);
    }
    snprintf(command, sizeof command, "openssl dgst -sha256 -sign %s.key -out keyset.sig keyset.bin", ca);
    run(command);
    uint8_t sig[80];
    slurp("keyset.sig", sig, sizeof sig);   /* SEQUENCE { INTEGER r, INTEGER s } */
    der_integer(der_integer(sig + 2, out + signed_len), out + signed_len + 32);
    return signed_len + 64;
}
