/* Option values (lib_args.h). */
#include <errno.h>
#include <stdlib.h>

#include "bw_manifest.h"
#include "lib_args.h"

static bool parse_decimal(const char *text, const char **end, uint32_t max, uint32_t *out)
{
    if (*text < '0' || *text > '9') {
        return false;
    }
    uint64_t v = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max) {
            return false;
        }
    }
    *end = p;
    *out = (uint32_t)v;
    return true;
}

bool args_uint32(const char *text, uint32_t *out)
{
    const char *end;
    return parse_decimal(text, &end, UINT32_MAX, out) && *end == '\0';
}

bool args_kernel_version(const char *text, uint32_t *out)
{
    uint32_t major, minor, patch;
    const char *p = text;
    if (!parse_decimal(p, &p, 255, &major) || *p++ != '.' || !parse_decimal(p, &p, 255, &minor)
        || *p++ != '.' || !parse_decimal(p, &p, 65535, &patch) || *p != '\0') {
        return false;
    }
    *out = BW_KERNEL_VERSION_PACK(major, minor, patch);
    return true;
}
