/*
 * A bounds-checked reader of the loadable contents of an ELF32 little-endian
 * executable (an app built with the SDK): its PT_LOAD segments that carry file
 * bytes, by load (physical) address, which is where they sit in flash.
 */
#ifndef BULWARK_LIB_ELF_H
#define BULWARK_LIB_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 64

typedef struct elf_segment {
    uint32_t load_address;   /* p_paddr: where the bytes live in flash */
    uint32_t file_offset;    /* p_offset */
    uint32_t size;           /* p_filesz (> 0) */
} elf_segment;

typedef struct elf_image {
    uint32_t entry;
    unsigned count;
    elf_segment segments[ELF_MAX_SEGMENTS];   /* in program header order */
} elf_image;

/* The fields of an ELF32 little-endian file header the CLI reads. */
typedef struct elf_header {
    uint16_t type, machine;
    uint32_t entry;
    uint32_t phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum;
} elf_header;

/* Checks data[0..len) is an ELF32 little-endian file with a whole header and
 * reads it. False with a reason ("not an ELF file", 64-bit, big-endian,
 * truncated). The one header reader of elf_read_segments and
 * lib_elf_symbols.c. */
bool elf_read_header(const uint8_t *data, size_t len, elf_header *h, char *reason, size_t reason_size);

/* Parses the ELF in data[0..len): header, program headers and every PT_LOAD
 * segment with file bytes, each checked to lie inside the file. False with a
 * reason for anything else (not ELF, 64-bit, big-endian, truncated, ...). */
bool elf_read_segments(const uint8_t *data, size_t len, elf_image *out, char *reason,
                       size_t reason_size);

#endif
