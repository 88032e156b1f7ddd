/*
 * ST-style newlib system calls, written for the compatibility tests: the
 * symbols STM32CubeIDE's generated syscalls.c and sysmem.c define (the same
 * names as the SDK's newlib glue, which steps aside for them), in their
 * manner: output through __io_putchar, which the app supplies; _sbrk between
 * _end and _estack - _Min_Stack_Size (symbols of the ST linker script, which
 * Bulwark's defines too); _exit spins. And SystemInit, which ST's
 * system_<device>.c supplies: the FPU opened for hard-float code.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

int __io_putchar(int ch) __attribute__((weak));   /* the app's, as in ST's file */

int _write(int file, char *ptr, int len);
int _read(int file, char *ptr, int len);
int _close(int file);
int _lseek(int file, int ptr, int dir);
int _fstat(int file, struct stat *st);
int _isatty(int file);
int _getpid(void);
int _kill(int pid, int sig);
void _exit(int status);
void *_sbrk(ptrdiff_t incr);
void SystemInit(void);

int _write(int file, char *ptr, int len)
{
    (void)file;
    for (int i = 0; i < len; i++) {
        __io_putchar(ptr[i]);
    }
    return len;
}

int _read(int file, char *ptr, int len)
{
    (void)file; (void)ptr; (void)len;
    return 0;
}

int _close(int file)
{
    (void)file;
    return -1;
}

int _lseek(int file, int ptr, int dir)
{
    (void)file; (void)ptr; (void)dir;
    return 0;
}

int _fstat(int file, struct stat *st)
{
    (void)file;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int file)
{
    (void)file;
    return 1;
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

void _exit(int status)
{
    _kill(status, -1);
    for (;;) {
    }
}

void *_sbrk(ptrdiff_t incr)
{
    extern uint8_t _end, _estack;
    extern uint32_t _Min_Stack_Size;
    static uint8_t *heap_end;
    const uint8_t *max_heap = &_estack - (uint32_t)&_Min_Stack_Size;
    if (heap_end == NULL) {
        heap_end = &_end;
    }
    if (heap_end + incr > max_heap) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *prev = heap_end;
    heap_end += incr;
    return prev;
}

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#if defined(__ARM_FP)
#define FPU_ACCESS (0xFu << 20)   /* CP10, CP11: full access */
#else
#define FPU_ACCESS 0u
#endif

void SystemInit(void)
{
    SCB_CPACR |= FPU_ACCESS;
}
