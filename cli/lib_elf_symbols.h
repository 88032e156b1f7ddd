/*
 * Symbols of an ELF32 little-endian executable (an app built with the SDK),
 * for symbolicating crash records: its executable PT_LOAD segments and its
 * symbol table (functions with their sizes, and code labels). Every field is
 * read at an offset checked against the file length; a malformed file is an
 * error with a reason, never a crash.
 */
#ifndef BULWARK_LIB_ELF_SYMBOLS_H
#define BULWARK_LIB_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct elf_symbols elf_symbols;

/* Parses data[0..len) (the caller keeps it until elf_symbols_free). NULL with
 * a reason if it is not an ELF32 LE executable with a symbol table. */
elf_symbols *elf_symbols_load(const uint8_t *data, size_t len, char *reason, size_t reason_size);
void elf_symbols_free(elf_symbols *symbols);

/* True when address lies in an executable PT_LOAD segment (by virtual address). */
bool elf_symbols_in_code(const elf_symbols *symbols, uint32_t address);

/* The function containing address (its Thumb bit ignored), or else the
 * nearest code label at or below it in the same segment; *offset receives
 * address minus the symbol. NULL when none. */
const char *elf_symbols_lookup(const elf_symbols *symbols, uint32_t address, uint32_t *offset);

#endif
