/*
 * mbedTLS configuration of the exact bench's TLS peer (bench_tls_peer.c):
 * the host tools' configuration plus a TLS 1.2 server speaking the kernel's
 * one profile (ECDHE-ECDSA, AES-128-GCM, P-256, tickets, max_fragment_length),
 * and no clock: without MBEDTLS_HAVE_TIME the ServerHello random and the
 * tickets carry no time, so a fixed RNG makes every byte the server sends
 * the same on every run. Host only.
 */
#ifndef BENCH_TLS_PEER_CONFIG_H
#define BENCH_TLS_PEER_CONFIG_H

#include "../../../cli/bw_mbedtls_tools_config.h"
#undef MBEDTLS_HAVE_TIME

#define MBEDTLS_NET_C
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH

#endif
