/*
 * bench_tls_peer: the exact bench's TLS peer (tests/bench/bench_tls.py).
 *
 *   bench_tls_peer fleet DIR    writes DIR/ca.{key,crt} and DIR/broker.{key,crt}:
 *                               keys derived from fixed labels, certificates
 *                               issued as `bulwark fleet init` issues them
 *                               (cli/lib_x509.c) under SOURCE_DATE_EPOCH, so
 *                               the same bytes on every run
 *   bench_tls_peer serve DIR N  a TLS 1.2 server on 127.0.0.1 (prints
 *                               "listening PORT"), the broker's profile and
 *                               certificate, client certificates checked
 *                               against the fleet CA, tickets; serves N
 *                               connections, each: the handshake ("handshake
 *                               K done"), one read of application
 *                               data, close_notify, close
 *
 * Invariant: every random byte comes from a CTR_DRBG seeded with fixed
 * bytes, reseeded the same way for each connection, and mbedTLS here has no
 * clock (bench_tls_peer_config.h): given the same client, each connection's
 * bytes are the same on every run. A bench tool, never a server to deploy.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ticket.h"

#include "lib_keys.h"
#include "lib_x509.h"

#define CA_SUBJECT "CN=Bulwark fleet CA,O=Bulwark"
#define BROKER_SUBJECT "CN=Bulwark broker,O=Bulwark"
#define ISSUE_EPOCH "1735689600"   /* 2025-01-01T00:00:00Z */

/* Entropy for the fixed DRBGs: the same bytes on every call. */
static int fixed_entropy(void *label, unsigned char *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        out[i] = (unsigned char)(i * 29u + 11u);
    }
    (void)label;
    return 0;
}

/* Seeds drbg with the fixed entropy and `label`; 0 or an mbedTLS error. */
static int fixed_drbg(mbedtls_ctr_drbg_context *drbg, const char *label)
{
    mbedtls_ctr_drbg_free(drbg);
    mbedtls_ctr_drbg_init(drbg);
    return mbedtls_ctr_drbg_seed(drbg, fixed_entropy, NULL, (const unsigned char *)label, strlen(label));
}

/* pk := the P-256 key whose scalar is SHA-256("bulwark bench tls " name). */
static int derived_key(const char *name, mbedtls_pk_context *pk, mbedtls_ctr_drbg_context *drbg)
{
    char label[64];
    unsigned char d[32];
    snprintf(label, sizeof label, "bulwark bench tls %s", name);
    int rc = mbedtls_sha256((const unsigned char *)label, strlen(label), d, 0);
    rc = rc != 0 ? rc : mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    rc = rc != 0 ? rc : mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), d, sizeof d);
    return rc != 0 ? rc : mbedtls_ecp_keypair_calc_public(mbedtls_pk_ec(*pk), mbedtls_ctr_drbg_random, drbg);
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "bench_tls_peer: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* One key and its certificate, issued by ca (NULL: self-signed). */
static int key_and_cert(const char *dir, const char *name, const char *subject, mbedtls_pk_context *key,
                        mbedtls_pk_context *ca, x509_role role, mbedtls_ctr_drbg_context *drbg)
{
    static const char *const dns[] = { "localhost" };
    static uint8_t der[X509_DER_MAX];
    static char pem[X509_PEM_MAX], key_pem[1024], reason[256];
    char file[64];
    size_t der_len = 0;
    if (derived_key(name, key, drbg) != 0 ||
        !x509_issue(key, subject, ca != NULL ? ca : key, CA_SUBJECT, role, dns, role == X509_ROLE_SERVER,
                    der, &der_len, pem, reason, sizeof reason) ||
        !keys_private_pem(key, key_pem, sizeof key_pem)) {
        fprintf(stderr, "bench_tls_peer: %s: %s\n", name, reason[0] ? reason : "key");
        return 1;
    }
    snprintf(file, sizeof file, "%s.key", name);
    int rc = write_text(dir, file, key_pem);
    snprintf(file, sizeof file, "%s.crt", name);
    return rc != 0 ? rc : write_text(dir, file, pem);
}

static int fleet(const char *dir)
{
    setenv("SOURCE_DATE_EPOCH", ISSUE_EPOCH, 1);
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_context ca, broker;
    mbedtls_pk_init(&ca);
    mbedtls_pk_init(&broker);
    int rc = fixed_drbg(&drbg, "fleet") != 0
          || key_and_cert(dir, "ca", CA_SUBJECT, &ca, NULL, X509_ROLE_CA, &drbg) != 0
          || key_and_cert(dir, "broker", BROKER_SUBJECT, &broker, &ca, X509_ROLE_SERVER, &drbg) != 0;
    mbedtls_pk_free(&ca);
    mbedtls_pk_free(&broker);
    mbedtls_ctr_drbg_free(&drbg);
    return rc;
}

typedef struct server {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, cert;
    mbedtls_pk_context key;
    mbedtls_ssl_ticket_context tickets;
    mbedtls_ctr_drbg_context ticket_drbg, drbg;
} server;

static int server_setup(server *s, const char *dir)
{
    char path[4096];
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_x509_crt_init(&s->ca);
    mbedtls_x509_crt_init(&s->cert);
    mbedtls_pk_init(&s->key);
    mbedtls_ssl_ticket_init(&s->tickets);
    mbedtls_ctr_drbg_init(&s->ticket_drbg);
    mbedtls_ctr_drbg_init(&s->drbg);
    snprintf(path, sizeof path, "%s/ca.crt", dir);
    int rc = mbedtls_x509_crt_parse_file(&s->ca, path);
    snprintf(path, sizeof path, "%s/broker.crt", dir);
    rc = rc != 0 ? rc : mbedtls_x509_crt_parse_file(&s->cert, path);
    snprintf(path, sizeof path, "%s/broker.key", dir);
    rc = rc != 0 ? rc : mbedtls_pk_parse_keyfile(&s->key, path, NULL, keys_rng, NULL);
    rc = rc != 0 ? rc : fixed_drbg(&s->ticket_drbg, "tickets");
    rc = rc != 0 ? rc : mbedtls_ssl_ticket_setup(&s->tickets, mbedtls_ctr_drbg_random, &s->ticket_drbg,
                                                 MBEDTLS_CIPHER_AES_128_GCM, 86400);
    rc = rc != 0 ? rc : mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                                    MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        return rc;
    }
    mbedtls_ssl_conf_min_tls_version(&s->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&s->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
    mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
    mbedtls_ssl_conf_session_tickets_cb(&s->conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &s->tickets);
    return mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key);
}

/* One connection: handshake, one read, close_notify. 0 or an mbedTLS error. */
static int serve_one(server *s, mbedtls_net_context *client, int number)
{
    mbedtls_ssl_context ssl;
    mbedtls_ssl_init(&ssl);
    int rc = fixed_drbg(&s->drbg, "connection");
    rc = rc != 0 ? rc : mbedtls_ssl_setup(&ssl, &s->conf);
    if (rc == 0) {
        mbedtls_ssl_set_bio(&ssl, client, mbedtls_net_send, mbedtls_net_recv, NULL);
        do {
            rc = mbedtls_ssl_handshake(&ssl);
        } while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    }
    if (rc == 0) {
        printf("handshake %d done\n", number);
        fflush(stdout);
        unsigned char buf[512];
        (void)mbedtls_ssl_read(&ssl, buf, sizeof buf);
        (void)mbedtls_ssl_close_notify(&ssl);
    }
    mbedtls_ssl_free(&ssl);
    return rc;
}

static int serve(const char *dir, int connections)
{
    static server s;
    int rc = server_setup(&s, dir);
    mbedtls_net_context listener;
    mbedtls_net_init(&listener);
    rc = rc != 0 ? rc : mbedtls_net_bind(&listener, "127.0.0.1", "0", MBEDTLS_NET_PROTO_TCP);
    struct sockaddr_in at;
    socklen_t at_len = sizeof at;
    if (rc != 0 || getsockname(listener.fd, (struct sockaddr *)&at, &at_len) != 0) {
        fprintf(stderr, "bench_tls_peer: set-up failed (mbedTLS error -0x%04x)\n", (unsigned)-rc);
        return 1;
    }
    printf("listening %u\n", (unsigned)ntohs(at.sin_port));
    fflush(stdout);
    for (int number = 1; number <= connections; number++) {
        mbedtls_net_context client;
        mbedtls_net_init(&client);
        if ((rc = mbedtls_net_accept(&listener, &client, NULL, 0, NULL)) == 0) {
            rc = serve_one(&s, &client, number);
        }
        if (rc != 0) {
            printf("connection %d failed (mbedTLS error -0x%04x)\n", number, (unsigned)-rc);
            fflush(stdout);
        }
        mbedtls_net_free(&client);
    }
    mbedtls_net_free(&listener);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "fleet") == 0) {
        return fleet(argv[2]);
    }
    if (argc == 4 && strcmp(argv[1], "serve") == 0) {
        return serve(argv[2], atoi(argv[3]));
    }
    fprintf(stderr, "usage: bench_tls_peer fleet DIR | bench_tls_peer serve DIR CONNECTIONS\n");
    return 2;
}
