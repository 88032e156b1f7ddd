/*
 * Access to the app's (non-secure) memory on the app's behalf.
 *
 * Every address the app hands the kernel is untrusted: it may be NULL, point
 * at secure memory or peripherals, wrap past the top of the address space, or
 * be unaligned. These functions check a whole range before touching a byte
 * and then copy byte by byte through volatile unsigned char, so unaligned app
 * pointers are fine and each app byte is read or written exactly once.
 *
 * Rule for callers: a struct the app passes is copied in with bw_app_copy_in
 * and only the kernel copy is used afterwards; pointers found inside it are
 * checked again from that copy (no time-of-check/time-of-use window).
 */
#ifndef BW_APP_MEM_H
#define BW_APP_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_port.h"

/* Checks that the app may let the kernel access [app_addr, app_addr + len) as asked.
 * A NULL address is always BW_E_FAULT; len 0 with a non-NULL address is BW_OK
 * (nothing will be touched); a range whose end would pass the top of the
 * address space, or that the port does not accept, is BW_E_FAULT. ISR-safe. */
bw_err bw_app_check_range(uintptr_t app_addr, size_t len, bw_access access);

/* Copies len bytes from app memory at app_src into kernel memory at dst, after
 * checking the whole range is app-readable. BW_E_FAULT and nothing copied otherwise. */
bw_err bw_app_copy_in(void *dst, uintptr_t app_src, size_t len);

/* Copies len bytes from kernel memory at src to app memory at app_dst, after
 * checking the whole range is app-writable. BW_E_FAULT and nothing written otherwise. */
bw_err bw_app_copy_out(uintptr_t app_dst, const void *src, size_t len);

/* Sets len bytes of app memory at app_dst to zero, after checking the whole
 * range is app-writable. BW_E_FAULT and nothing written otherwise. */
bw_err bw_app_zero(uintptr_t app_dst, size_t len);

/* Copies len bytes of app memory from app_src to app_dst, byte by byte in
 * ascending order, after checking the source is app-readable and the
 * destination app-writable. BW_E_FAULT and nothing written otherwise. */
bw_err bw_app_copy_within(uintptr_t app_dst, uintptr_t app_src, size_t len);

#endif
