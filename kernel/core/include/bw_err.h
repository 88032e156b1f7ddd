/*
 * The kernel's one internal error convention. Core modules return bw_err;
 * only the system-call layer (bw_syscalls.c) turns these into MvStatus for the app.
 */
#ifndef BW_ERR_H
#define BW_ERR_H

typedef enum bw_err {
    BW_OK = 0,
    BW_E_FAULT,        /* an app pointer/range is not app-accessible memory */
    BW_E_SIZE,         /* a length or count is out of the allowed range */
    BW_E_ALIGN,        /* an address is not aligned as required */
    BW_E_FULL,         /* a fixed-size table has no free slot */
    BW_E_IN_USE,       /* the resource (buffer, IRQ) is already claimed */
    BW_E_HANDLE,       /* a handle is 0, unknown, stale or of another kind */
    BW_E_IRQ,          /* an interrupt number the app may not use */
    BW_E_DENIED,       /* the app may not touch this register or resource */
    BW_E_VERSION,      /* a versioned struct carries an unknown version */
    BW_E_UNAVAILABLE,  /* not available here or now (e.g. from an interrupt) */
    BW_E_IO,           /* the hardware failed (entropy, flash) */
    BW_E_INVALID,      /* any other invalid argument */
    /* channels and their requests (bw_channel.h, bw_http.h) */
    BW_E_CHANNELS,     /* every channel is open */
    BW_E_CHANNEL_TYPE, /* a channel type the kernel does not carry */
    BW_E_ENDPOINT,     /* an endpoint no relay serves */
    BW_E_CLOSED,       /* the channel is no longer connected */
    BW_E_OFFLINE,      /* the cloud link is not connected */
    BW_E_RATE,         /* too many opens in the last second */
    BW_E_NOT_PRESENT,  /* no response (yet) */
    BW_E_ALREADY,      /* the channel's one request was already sent */
    BW_E_INDEX,        /* an index past the last element */
    BW_E_OFFSET,       /* an offset past the end */
    BW_E_ELEMENTS,     /* more elements than allowed */
    BW_E_KEY,          /* a config key that is not 1..BW_CONFIG_KEY_MAX printable ASCII */
    /* MQTT channels (bw_appmqtt.h) */
    BW_E_REQUIRED,     /* a required element is missing */
    BW_E_AUTH,         /* an authentication method unknown or inconsistent */
    BW_E_WRONG_DATA,   /* the oldest readable item is of another kind */
    BW_E_NOT_ACKABLE,  /* no read QoS 1 message has that correlation ID */
    /* flash (bw_flash.h) */
    BW_E_TORN,         /* flash a power cut left half-written: its ECC fails on read */
} bw_err;

#endif
