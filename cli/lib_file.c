/* Whole-file I/O for the CLI (lib_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib_file.h"

bool file_read_all(const char *path, size_t max, uint8_t **data, size_t *len, char *reason,
                   size_t reason_size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(reason, reason_size, "%s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (used == cap) {
            if (cap > max) {
                snprintf(reason, reason_size, "%s: larger than %zu bytes", path, max);
                ok = false;
                break;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                snprintf(reason, reason_size, "%s: out of memory", path);
                ok = false;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(reason, reason_size, "%s: read error", path);
                ok = false;
            }
            break;
        }
    }
    fclose(f);
    if (ok && used > max) {
        snprintf(reason, reason_size, "%s: larger than %zu bytes", path, max);
        ok = false;
    }
    if (!ok) {
        free(buf);
        return false;
    }
    *data = buf;
    *len = used;
    return true;
}

bool file_write_all(const char *path, const void *data, size_t len, unsigned mode, bool exclusive,
                    char *reason, size_t reason_size)
{
    int flags = O_WRONLY | O_CREAT | (exclusive ? O_EXCL : O_TRUNC);
    int fd = open(path, flags, (mode_t)mode);
    if (fd < 0) {
        if (errno == EEXIST) {
            snprintf(reason, reason_size, "%s exists (use --force to overwrite it)", path);
        } else {
            snprintf(reason, reason_size, "%s: %s", path, strerror(errno));
        }
        return false;
    }
    bool ok = fchmod(fd, (mode_t)mode) == 0;
    const uint8_t *p = data;
    while (ok && len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            ok = false;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0) {
        ok = false;
    }
    if (!ok) {
        snprintf(reason, reason_size, "%s: %s", path, strerror(errno));
    }
    return ok;
}
