/*
 * The local-link debug transport (lib_debug_transport.h): monitor packets
 * in DEBUG requests, answers in DEBUG_ANSWER frames (docs/SPEC.md §9.2).
 */
#ifndef BULWARK_LIB_DEBUG_LINK_H
#define BULWARK_LIB_DEBUG_LINK_H

#include "lib_debug_transport.h"
#include "lib_link_session.h"

/* A transport over the connected session s (which it closes on close). */
bw_debug_transport debug_link_transport(link_session *s);

#endif
