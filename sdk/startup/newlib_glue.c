/*
 * The newlib system layer for apps: stdout/stderr go to the board console,
 * malloc takes memory between .bss/.noinit and the stack; there is no file
 * system, so everything else fails with the errno newlib expects.
 * Every stub is weak: an app that brings its own (ST's syscalls.c and
 * sysmem.c) keeps them, and the SDK's step aside.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bulwark_board.h"

extern char __heap_start__[], __heap_end__[];

int _write(int fd, const char *buf, int len) __attribute__((weak));
int _read(int fd, char *buf, int len) __attribute__((weak));
int _close(int fd) __attribute__((weak));
int _lseek(int fd, int offset, int whence) __attribute__((weak));
int _fstat(int fd, struct stat *st) __attribute__((weak));
int _isatty(int fd) __attribute__((weak));
void *_sbrk(intptr_t increment) __attribute__((weak));
int _getpid(void) __attribute__((weak));
int _kill(int pid, int sig) __attribute__((weak));
void _exit(int code) __attribute__((weak));
void _init(void) __attribute__((weak));
void _fini(void) __attribute__((weak));

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    board_console_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd; (void)buf; (void)len;
    errno = ENOSYS;
    return -1;
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd; (void)offset; (void)whence;
    errno = ESPIPE;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

void *_sbrk(intptr_t increment)
{
    static char *brk = __heap_start__;
    if (increment < 0 || increment > __heap_end__ - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += increment;
    return old;
}

int _getpid(void)
{
    return 1;
}

int _kill(int pid, int sig)
{
    (void)pid; (void)sig;
    errno = EINVAL;
    return -1;
}

void _exit(int code)
{
    board_exit((uint32_t)code);
}

/* Apps link without the C runtime's start files (-nostartfiles), so nothing
 * else defines the hooks newlib's __libc_init_array and __libc_fini_array
 * call; ST's start-up file calls __libc_init_array. Constructors run from
 * .init_array either way. */
void _init(void)
{
}

void _fini(void)
{
}
