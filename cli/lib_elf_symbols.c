/*
 * ELF32 symbols and code segments (lib_elf_symbols.h). The symbol table is
 * copied into a malloc'd array of {address, size, name offset, is_function};
 * names stay in the caller's buffer, each checked to end inside its string
 * table. Offsets and sums are computed in 64 bits before any read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw_bytes.h"
#include "lib_elf.h"
#include "lib_elf_symbols.h"

#define PHDR_SIZE 32u
#define SHDR_SIZE 40u
#define SYM_SIZE 16u
#define PT_LOAD 1u
#define PF_X 1u
#define SHT_SYMTAB 2u
#define STT_NOTYPE 0u
#define STT_FUNC 2u
#define EM_ARM 40u
#define MAX_SEGMENTS 32u

typedef struct code_segment {
    uint32_t start;
    uint32_t end;   /* exclusive, 64-bit safe: start + memsz checked */
} code_segment;

typedef struct symbol {
    uint32_t address;   /* Thumb bit cleared */
    uint32_t size;
    const char *name;
    bool function;
} symbol;

struct elf_symbols {
    code_segment segments[MAX_SEGMENTS];
    unsigned segment_count;
    symbol *symbols;
    size_t symbol_count;
};

static bool fits(size_t len, uint64_t offset, uint64_t size)
{
    return offset <= len && size <= len - offset;
}

static elf_symbols *fail(elf_symbols *s, char *reason, size_t reason_size, const char *text)
{
    snprintf(reason, reason_size, "%s", text);
    elf_symbols_free(s);
    return NULL;
}

elf_symbols *elf_symbols_load(const uint8_t *data, size_t len, char *reason, size_t reason_size)
{
    elf_symbols *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return fail(NULL, reason, reason_size, "out of memory");
    }
    elf_header h;
    if (!elf_read_header(data, len, &h, reason, reason_size)) {
        elf_symbols_free(s);   /* the reason is written */
        return NULL;
    }
    if (h.machine != EM_ARM) {
        return fail(s, reason, reason_size, "not an ARM ELF file");
    }
    uint32_t phoff = h.phoff, shoff = h.shoff;
    uint16_t phentsize = h.phentsize, phnum = h.phnum;
    uint16_t shentsize = h.shentsize, shnum = h.shnum;

    if (phnum != 0 && (phentsize < PHDR_SIZE || !fits(len, phoff, (uint64_t)phnum * phentsize))) {
        return fail(s, reason, reason_size, "truncated or malformed program headers");
    }
    for (uint16_t i = 0; i < phnum; i++) {
        const uint8_t *ph = data + phoff + (size_t)i * phentsize;
        uint32_t vaddr = bw_get32(ph + 8), memsz = bw_get32(ph + 20), flags = bw_get32(ph + 24);
        if (bw_get32(ph) != PT_LOAD || !(flags & PF_X) || memsz == 0) {
            continue;
        }
        if (s->segment_count == MAX_SEGMENTS) {
            return fail(s, reason, reason_size, "too many executable segments");
        }
        uint64_t end = (uint64_t)vaddr + memsz;
        s->segments[s->segment_count++] = (code_segment){ vaddr, end > UINT32_MAX ? UINT32_MAX : (uint32_t)end };
    }

    if (shnum == 0 || shentsize < SHDR_SIZE || !fits(len, shoff, (uint64_t)shnum * shentsize)) {
        return fail(s, reason, reason_size, "no section headers (stripped?)");
    }
    const uint8_t *symtab = NULL;
    for (uint16_t i = 0; i < shnum && symtab == NULL; i++) {
        const uint8_t *sh = data + shoff + (size_t)i * shentsize;
        if (bw_get32(sh + 4) == SHT_SYMTAB) {
            symtab = sh;
        }
    }
    if (symtab == NULL) {
        return fail(s, reason, reason_size, "no symbol table (stripped?)");
    }
    uint32_t sym_off = bw_get32(symtab + 16), sym_size = bw_get32(symtab + 20), link = bw_get32(symtab + 24);
    uint32_t entsize = bw_get32(symtab + 36);
    if (entsize < SYM_SIZE || !fits(len, sym_off, sym_size) || link >= shnum) {
        return fail(s, reason, reason_size, "malformed symbol table");
    }
    const uint8_t *strsh = data + shoff + (size_t)link * shentsize;
    uint32_t str_off = bw_get32(strsh + 16), str_size = bw_get32(strsh + 20);
    if (!fits(len, str_off, str_size) || str_size == 0 || data[str_off + str_size - 1] != '\0') {
        return fail(s, reason, reason_size, "malformed symbol string table");
    }

    size_t count = sym_size / entsize;
    s->symbols = calloc(count == 0 ? 1 : count, sizeof *s->symbols);
    if (s->symbols == NULL) {
        return fail(s, reason, reason_size, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *sym = data + sym_off + i * entsize;
        uint32_t name = bw_get32(sym), value = bw_get32(sym + 4), size = bw_get32(sym + 8);
        unsigned type = sym[12] & 0xFu;
        if ((type != STT_FUNC && type != STT_NOTYPE) || name == 0 || name >= str_size) {
            continue;
        }
        const char *text = (const char *)data + str_off + name;
        /* ARM mapping symbols ($t, $d, $a) mark code and data, not places. */
        if (text[0] == '$' || text[0] == '\0') {
            continue;
        }
        uint32_t address = value & ~1u;
        if (!elf_symbols_in_code(s, address)) {
            continue;
        }
        s->symbols[s->symbol_count++] = (symbol){ address, size, text, type == STT_FUNC };
    }
    return s;
}

void elf_symbols_free(elf_symbols *symbols)
{
    if (symbols != NULL) {
        free(symbols->symbols);
        free(symbols);
    }
}

static const code_segment *segment_of(const elf_symbols *s, uint32_t address)
{
    for (unsigned i = 0; i < s->segment_count; i++) {
        if (address >= s->segments[i].start && address < s->segments[i].end) {
            return &s->segments[i];
        }
    }
    return NULL;
}

bool elf_symbols_in_code(const elf_symbols *symbols, uint32_t address)
{
    return segment_of(symbols, address) != NULL;
}

/* The function whose [address, address + size) holds address, or NULL. */
static const symbol *function_at(const elf_symbols *s, uint32_t address)
{
    for (size_t i = 0; i < s->symbol_count; i++) {
        const symbol *sym = &s->symbols[i];
        if (sym->function && sym->size > 0 && address - sym->address < sym->size) {
            return sym;
        }
    }
    return NULL;
}

/* The closest symbol at or below address in the segment, or NULL. */
static const symbol *nearest_below(const elf_symbols *s, const code_segment *segment, uint32_t address)
{
    const symbol *best = NULL;
    for (size_t i = 0; i < s->symbol_count; i++) {
        const symbol *sym = &s->symbols[i];
        if (sym->address <= address && sym->address >= segment->start
            && (best == NULL || sym->address > best->address)) {
            best = sym;
        }
    }
    return best;
}

const char *elf_symbols_lookup(const elf_symbols *s, uint32_t address, uint32_t *offset)
{
    address &= ~1u;
    const code_segment *segment = segment_of(s, address);
    if (segment == NULL) {
        return NULL;
    }
    const symbol *best = function_at(s, address);
    if (best == NULL) {
        best = nearest_below(s, segment, address);
    }
    if (best == NULL) {
        return NULL;
    }
    *offset = address - best->address;
    return best->name;
}
