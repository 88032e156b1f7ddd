/* Arm semihosting (bkpt 0xab) for the QEMU port; see semihosting.h. */
#include "semihosting.h"

#define SYS_OPEN           0x01u
#define SYS_CLOSE          0x02u
#define SYS_READ           0x06u
#define SYS_EXIT_EXTENDED  0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihosting_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int semihosting_entropy(void *buf, size_t len)
{
    static const char path[] = "/dev/urandom";
    uint32_t open_args[3] = { (uint32_t)(uintptr_t)path, 1u /* "rb" */, sizeof path - 1u };
    uint32_t fd = semihosting_call(SYS_OPEN, open_args);
    if (fd == 0xFFFFFFFFu) {
        return -1;
    }
    uint32_t read_args[3] = { fd, (uint32_t)(uintptr_t)buf, (uint32_t)len };
    uint32_t not_read = semihosting_call(SYS_READ, read_args);
    semihosting_call(SYS_CLOSE, &fd);
    return not_read == 0 ? 0 : -1;
}

void semihosting_exit(uint32_t code)
{
    uint32_t args[2] = { ADP_STOPPED_APPLICATION_EXIT, code };
    semihosting_call(SYS_EXIT_EXTENDED, args);
    for (;;) {
    }
}
