/*
 * ELF32 program headers (lib_elf.h). Every field read is at an offset checked
 * against the file length first; sums are formed in 64 bits.
 */
#include <stdio.h>
#include <string.h>

#include "bw_bytes.h"
#include "lib_elf.h"

#define EI_NIDENT 16
#define ELF_HEADER_SIZE 52
#define PHDR_SIZE 32
#define PT_LOAD 1

bool elf_read_header(const uint8_t *data, size_t len, elf_header *h, char *reason, size_t reason_size)
{
    memset(h, 0, sizeof *h);
    if (len < EI_NIDENT || memcmp(data, "\x7f" "ELF", 4) != 0) {
        snprintf(reason, reason_size, "not an ELF file");
        return false;
    }
    if (data[4] != 1) {
        snprintf(reason, reason_size, "not a 32-bit ELF file");
        return false;
    }
    if (data[5] != 1) {
        snprintf(reason, reason_size, "not a little-endian ELF file");
        return false;
    }
    if (len < ELF_HEADER_SIZE) {
        snprintf(reason, reason_size, "ELF header is truncated");
        return false;
    }
    *h = (elf_header){
        .type = bw_get16(data + 16), .machine = bw_get16(data + 18), .entry = bw_get32(data + 24),
        .phoff = bw_get32(data + 28), .shoff = bw_get32(data + 32), .phentsize = bw_get16(data + 42),
        .phnum = bw_get16(data + 44), .shentsize = bw_get16(data + 46), .shnum = bw_get16(data + 48),
    };
    return true;
}

bool elf_read_segments(const uint8_t *data, size_t len, elf_image *out, char *reason,
                       size_t reason_size)
{
    memset(out, 0, sizeof *out);
    elf_header h;
    if (!elf_read_header(data, len, &h, reason, reason_size)) {
        return false;
    }
    if (h.type != 2) {
        snprintf(reason, reason_size, "not an executable ELF file (type %u)", h.type);
        return false;
    }
    out->entry = h.entry;
    uint32_t phoff = h.phoff;
    uint16_t phentsize = h.phentsize;
    uint16_t phnum = h.phnum;
    if (phnum == 0) {
        snprintf(reason, reason_size, "ELF file has no program headers");
        return false;
    }
    if (phentsize != PHDR_SIZE) {
        snprintf(reason, reason_size, "ELF program header size %u is not %u", phentsize, PHDR_SIZE);
        return false;
    }
    if ((uint64_t)phoff + (uint64_t)phnum * PHDR_SIZE > len) {
        snprintf(reason, reason_size, "ELF program headers lie past the end of the file");
        return false;
    }
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = data + phoff + i * PHDR_SIZE;
        uint32_t p_type = bw_get32(ph), p_offset = bw_get32(ph + 4), p_paddr = bw_get32(ph + 12);
        uint32_t p_filesz = bw_get32(ph + 16);
        if (p_type != PT_LOAD || p_filesz == 0) {
            continue;
        }
        if ((uint64_t)p_offset + p_filesz > len) {
            snprintf(reason, reason_size, "ELF segment %u lies past the end of the file", i);
            return false;
        }
        if ((uint64_t)p_paddr + p_filesz > 0x100000000ull) {
            snprintf(reason, reason_size, "ELF segment %u wraps past the end of the address space", i);
            return false;
        }
        if (out->count == ELF_MAX_SEGMENTS) {
            snprintf(reason, reason_size, "ELF file has more than %u loadable segments",
                     ELF_MAX_SEGMENTS);
            return false;
        }
        out->segments[out->count++] = (elf_segment){ p_paddr, p_offset, p_filesz };
    }
    if (out->count == 0) {
        snprintf(reason, reason_size, "ELF file has no loadable bytes");
        return false;
    }
    return true;
}
