/*
 * The newlib system layer for apps: stdout/stderr go to the board console,
 * malloc takes memory between .bss/.noinit and the stack; there is no file
 * system, so everything else fails with the errno newlib expects.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bulwark_board.h"

extern char __heap_start__[], __heap_end__[];

int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
int _close(int fd);
int _lseek(int fd, int offset, int whence);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
void *_sbrk(intptr_t increment);
int _getpid(void);
int _kill(int pid, int sig);
void _exit(int code);

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
