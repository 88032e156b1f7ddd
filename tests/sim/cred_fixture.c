/* Test certificates through the openssl CLI (cred_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
