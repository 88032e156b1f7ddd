/*
 * The few port functions bw_tls, bw_random and bw_crypto reach, for the host
 * TLS test: entropy from getrandom(2), no interrupts to mask, the kernel console
 * (bw_log.c) on stderr. (The unit tests' port/host is not used: its entropy is a
 * counter, and it pulls in the kernel core built with the plain config.)
 */
#include <stdio.h>
#include <sys/random.h>

#include "bw_log.h"
#include "bw_port.h"

bw_err port_entropy(void *buf, size_t len)
{
    return getrandom(buf, len, 0) == (ssize_t)len ? BW_OK : BW_E_IO;
}

uint32_t port_irq_lock(void) { return 0; }
void port_irq_unlock(uint32_t state) { (void)state; }

void port_console_write(const char *text, size_t len)
{
    fwrite(text, 1, len, stderr);
}
