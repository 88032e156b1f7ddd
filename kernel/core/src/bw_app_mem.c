/*
 * App memory checks and copies (see bw_app_mem.h).
 *
 * Invariant: no byte of app memory is read or written unless the whole range
 * it belongs to passed bw_app_check_range just before, for that access.
 */
#include "bw_app_mem.h"

bw_err bw_app_check_range(uintptr_t app_addr, size_t len, bw_access access)
{
    if (app_addr == 0) {
        return BW_E_FAULT;
    }
    if (len == 0) {
        return BW_OK;
    }
    /* The port is promised a range whose end does not wrap. */
    if (len > UINTPTR_MAX - app_addr) {
        return BW_E_FAULT;
    }
    return port_app_range_ok(app_addr, len, access) ? BW_OK : BW_E_FAULT;
}

bw_err bw_app_copy_in(void *dst, uintptr_t app_src, size_t len)
{
    bw_err err = bw_app_check_range(app_src, len, BW_ACCESS_READ);
    if (err != BW_OK) {
        return err;
    }
    const volatile unsigned char *from = (const volatile unsigned char *)app_src;
    unsigned char *to = dst;
    for (size_t i = 0; i < len; i++) {
        to[i] = from[i];
    }
    return BW_OK;
}

bw_err bw_app_copy_out(uintptr_t app_dst, const void *src, size_t len)
{
    bw_err err = bw_app_check_range(app_dst, len, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return err;
    }
    volatile unsigned char *to = (volatile unsigned char *)app_dst;
    const unsigned char *from = src;
    for (size_t i = 0; i < len; i++) {
        to[i] = from[i];
    }
    return BW_OK;
}

bw_err bw_app_zero(uintptr_t app_dst, size_t len)
{
    bw_err err = bw_app_check_range(app_dst, len, BW_ACCESS_READWRITE);
    if (err != BW_OK) {
        return err;
    }
    volatile unsigned char *to = (volatile unsigned char *)app_dst;
    for (size_t i = 0; i < len; i++) {
        to[i] = 0;
    }
    return BW_OK;
}

bw_err bw_app_copy_within(uintptr_t app_dst, uintptr_t app_src, size_t len)
{
    bw_err err = bw_app_check_range(app_src, len, BW_ACCESS_READ);
    if (err == BW_OK) {
        err = bw_app_check_range(app_dst, len, BW_ACCESS_READWRITE);
    }
    if (err != BW_OK) {
        return err;
    }
    const volatile unsigned char *from = (const volatile unsigned char *)app_src;
    volatile unsigned char *to = (volatile unsigned char *)app_dst;
    for (size_t i = 0; i < len; i++) {
        to[i] = from[i];
    }
    return BW_OK;
}
