/*
 * The host port (see port_host.h). All state is static and reset by
 * port_host_reset; nothing here is thread-safe, as nothing runs concurrently
 * in a unit test (interrupts are simulated by the preempt hook).
 */
#include <string.h>

#include "bw_bytes.h"
#include "bw_identity.h"
#include "port_host.h"

typedef struct app_region {
    uintptr_t base;
    size_t len;
    bool writable;
} app_region;

typedef struct mediated_slot {
    bw_mediated_reg reg;
    uint32_t value;
} mediated_slot;

static const bw_mediated_reg mediated_table[] = {
    { PORT_HOST_REG_FULL, PORT_HOST_REG_FULL_READ_MASK, PORT_HOST_REG_FULL_WRITE_MASK },
    { PORT_HOST_REG_PARTIAL, PORT_HOST_REG_PARTIAL_READ_MASK, PORT_HOST_REG_PARTIAL_WRITE_MASK },
    { PORT_HOST_REG_LOCKED, PORT_HOST_REG_LOCKED_READ_MASK, PORT_HOST_REG_LOCKED_WRITE_MASK },
};
#define MEDIATED_COUNT (sizeof mediated_table / sizeof mediated_table[0])

static struct {
    app_region regions[PORT_HOST_MAX_APP_REGIONS];
    size_t region_count;
    uint64_t now_us;
    uint64_t step_us;
    uint32_t clock_hz[4];
    uint32_t irq_count;
    bool kernel_irq[PORT_HOST_MAX_IRQS];
    uint32_t pends[PORT_HOST_MAX_IRQS];
    uint32_t pend_total;
    uint32_t bad_pends;
    bool entropy_failing;
    uint32_t entropy_counter;
    char console[PORT_HOST_CONSOLE_CAPACITY + 1];
    size_t console_len;
    bool in_interrupt;
    uint32_t restart_requests;
    uint8_t provisioning[8192];   /* the provisioning sector (0xFF: erased) */
    uint32_t mediated_values[MEDIATED_COUNT];
    uint32_t lock_depth;
    uint32_t lock_max_depth;
    uint32_t lock_count;
    bool lock_misused;
    uint32_t contract_violations;
    void (*preempt_hook)(void *context);
    void *preempt_context;
    uint32_t preempt_skip;
    void (*time_hook)(void *context);
    void *time_context;
    uint32_t console_writes;
    const bw_flash_partition *partitions[BW_PARTITION_COUNT];
    uint32_t address_base;
    uint32_t address_size;
    bw_address_kind address_kind;
    uint32_t reset_ram[PORT_HOST_RESET_RAM_WORDS];
    size_t reset_ram_words;
} host;

void port_host_reset(void)
{
    memset(&host, 0, sizeof host);
    host.clock_hz[BW_CLOCK_SYSCLK] = 160000000u;
    host.clock_hz[BW_CLOCK_HCLK] = 160000000u;
    host.clock_hz[BW_CLOCK_PCLK1] = 80000000u;
    host.clock_hz[BW_CLOCK_PCLK2] = 80000000u;
    host.irq_count = PORT_HOST_DEFAULT_IRQ_COUNT;
    host.reset_ram_words = PORT_HOST_RESET_RAM_WORDS;
    memset(host.provisioning, 0xFF, sizeof host.provisioning);
    uint8_t identity[16];
    for (uint8_t i = 0; i < 16; i++) {
        identity[i] = i;
    }
    port_host_set_identity(identity);
}

void port_host_chip_reset(void)
{
    uint32_t kept[PORT_HOST_RESET_RAM_WORDS];
    size_t words = host.reset_ram_words;
    memcpy(kept, host.reset_ram, sizeof kept);
    port_host_reset();
    memcpy(host.reset_ram, kept, sizeof kept);
    host.reset_ram_words = words;
}

/* ---- controls ---- */

void port_host_set_reset_ram_words(size_t words)
{
    host.reset_ram_words = words < PORT_HOST_RESET_RAM_WORDS ? words : PORT_HOST_RESET_RAM_WORDS;
}

uint32_t *port_host_reset_ram(void)
{
    return host.reset_ram;
}

bool port_host_add_app_region(const void *base, size_t len, bool writable)
{
    if (host.region_count == PORT_HOST_MAX_APP_REGIONS) {
        return false;
    }
    host.regions[host.region_count++] = (app_region){ (uintptr_t)base, len, writable };
    return true;
}

void port_host_clear_app_regions(void)
{
    host.region_count = 0;
}

void port_host_set_time_us(uint64_t now) { host.now_us = now; }
void port_host_set_time_step_us(uint64_t step) { host.step_us = step; }

void port_host_set_clock_hz(bw_clock clock, uint32_t hz)
{
    if ((unsigned)clock < 4) {
        host.clock_hz[clock] = hz;
    }
}

void port_host_set_irq_count(uint32_t count)
{
    host.irq_count = count < PORT_HOST_MAX_IRQS ? count : PORT_HOST_MAX_IRQS;
}

void port_host_set_kernel_irq(uint32_t irqn, bool kernel_owned)
{
    if (irqn < PORT_HOST_MAX_IRQS) {
        host.kernel_irq[irqn] = kernel_owned;
    }
}

uint32_t port_host_pend_count(uint32_t irqn)
{
    return irqn < PORT_HOST_MAX_IRQS ? host.pends[irqn] : 0;
}

uint32_t port_host_pend_total(void) { return host.pend_total; }
uint32_t port_host_bad_pends(void) { return host.bad_pends; }

void port_host_set_entropy_failing(bool failing) { host.entropy_failing = failing; }

const char *port_host_console(void)
{
    host.console[host.console_len] = '\0';
    return host.console;
}

size_t port_host_console_len(void) { return host.console_len; }

void port_host_console_clear(void)
{
    host.console_len = 0;
    host.console[0] = '\0';
    host.console_writes = 0;
}

void port_host_set_in_interrupt(bool in_interrupt) { host.in_interrupt = in_interrupt; }
uint32_t port_host_restart_requests(void) { return host.restart_requests; }

void port_host_set_identity(const uint8_t identity[16])
{
    /* A real identity record (bw_identity.h), as provisioning writes it. */
    uint8_t record[BW_IDENTITY_RECORD_SIZE];
    const uint32_t head[2] = { BW_IDENTITY_MAGIC, BW_IDENTITY_VERSION };
    for (int i = 0; i < 8; i++) {
        record[i] = (uint8_t)(head[i / 4] >> (8 * (i % 4)));
    }
    memcpy(record + 8, identity, 16);
    uint32_t crc = bw_crc32(record, 24);
    for (int i = 0; i < 4; i++) {
        record[24 + i] = (uint8_t)(crc >> (8 * i));
    }
    memcpy(host.provisioning, record, sizeof record);
}

void port_host_clear_identity(void)
{
    memset(host.provisioning, 0xFF, BW_IDENTITY_RECORD_SIZE);
}

static size_t mediated_index(uint32_t app_address)
{
    for (size_t i = 0; i < MEDIATED_COUNT; i++) {
        if (mediated_table[i].app_address == app_address) {
            return i;
        }
    }
    return MEDIATED_COUNT;
}

uint32_t port_host_mediated_value(uint32_t app_address)
{
    size_t i = mediated_index(app_address);
    return i < MEDIATED_COUNT ? host.mediated_values[i] : 0;
}

void port_host_set_mediated_value(uint32_t app_address, uint32_t value)
{
    size_t i = mediated_index(app_address);
    if (i < MEDIATED_COUNT) {
        host.mediated_values[i] = value;
    }
}

uint32_t port_host_lock_depth(void) { return host.lock_depth; }
uint32_t port_host_lock_max_depth(void) { return host.lock_max_depth; }
uint32_t port_host_lock_count(void) { return host.lock_count; }
bool port_host_lock_misused(void) { return host.lock_misused; }
uint32_t port_host_contract_violations(void) { return host.contract_violations; }

void port_host_set_preempt_hook(void (*hook)(void *context), void *context, uint32_t skip)
{
    host.preempt_hook = hook;
    host.preempt_context = context;
    host.preempt_skip = skip;
}

void port_host_set_time_hook(void (*hook)(void *context), void *context)
{
    host.time_hook = hook;
    host.time_context = context;
}

uint32_t port_host_console_writes(void) { return host.console_writes; }

void port_host_set_partition(bw_partition_id id, const bw_flash_partition *partition)
{
    if ((unsigned)id < BW_PARTITION_COUNT) {
        host.partitions[id] = partition;
    }
}

void port_host_set_address_kind(uint32_t base, uint32_t size, bw_address_kind kind)
{
    host.address_base = base;
    host.address_size = size;
    host.address_kind = kind;
}

/* ---- the port contract ---- */

uint64_t port_time_us(void)
{
    uint64_t now = host.now_us;
    host.now_us += host.step_us;
    if (host.time_hook != NULL) {
        host.time_hook(host.time_context);
    }
    return now;
}

uint32_t port_clock_hz(bw_clock clock)
{
    return (unsigned)clock < 4 ? host.clock_hz[clock] : 0;
}

bw_err port_entropy(void *buf, size_t len)
{
    if (host.entropy_failing) {
        return BW_E_IO;
    }
    unsigned char *out = buf;
    for (size_t i = 0; i < len; i++) {
        /* A counter through a multiplicative hash: deterministic, not constant. */
        uint32_t x = (host.entropy_counter++ + 1u) * 2654435761u;
        out[i] = (unsigned char)(x >> 24);
    }
    return BW_OK;
}

uint32_t port_irq_lock(void)
{
    uint32_t previous = host.lock_depth;
    host.lock_depth++;
    host.lock_count++;
    if (host.lock_depth > host.lock_max_depth) {
        host.lock_max_depth = host.lock_depth;
    }
    return previous;
}

void port_irq_unlock(uint32_t state)
{
    if (host.lock_depth == 0 || state != host.lock_depth - 1) {
        host.lock_misused = true;
    }
    host.lock_depth = state;
}

bool port_app_range_ok(uintptr_t addr, size_t len, bw_access access)
{
    if (host.preempt_hook != NULL && host.lock_depth == 0 && host.preempt_skip > 0) {
        host.preempt_skip--;
    } else if (host.preempt_hook != NULL && host.lock_depth == 0) {
        void (*hook)(void *) = host.preempt_hook;
        void *context = host.preempt_context;
        bool was_in_interrupt = host.in_interrupt;
        host.preempt_hook = NULL;
        host.in_interrupt = true;
        hook(context);
        host.in_interrupt = was_in_interrupt;
    }
    if (len == 0 || addr + len < addr) {
        host.contract_violations++;   /* the core promised never to ask this */
        return false;
    }
    for (size_t i = 0; i < host.region_count; i++) {
        const app_region *r = &host.regions[i];
        bool inside = addr >= r->base && len <= r->len && addr - r->base <= r->len - len;
        if (inside && (access == BW_ACCESS_READ || r->writable)) {
            return true;
        }
    }
    return false;
}

uint32_t port_irq_count(void) { return host.irq_count; }

/* Deliberately blind to the IRQ count: bounding irqn is the core's job, and
 * a test must see it fail if the core forgets. */
bool port_irq_is_app(uint32_t irqn)
{
    return irqn < PORT_HOST_MAX_IRQS && !host.kernel_irq[irqn];
}

void port_irq_pend(uint32_t irqn)
{
    host.pend_total++;
    if (irqn < PORT_HOST_MAX_IRQS) {
        host.pends[irqn]++;
    } else {
        host.bad_pends++;
    }
}

bool port_app_in_interrupt(void) { return host.in_interrupt; }

const bw_mediated_reg *port_mediated_regs(size_t *count)
{
    *count = MEDIATED_COUNT;
    return mediated_table;
}

uint32_t port_mediated_read(uint32_t app_address)
{
    return port_host_mediated_value(app_address);
}

void port_mediated_write(uint32_t app_address, uint32_t value)
{
    port_host_set_mediated_value(app_address, value);
}

static void (*console_preempt)(void);

void port_host_console_preempt(void (*fn)(void))
{
    console_preempt = fn;
}

static void console_store(const char *text, size_t len)
{
    size_t room = PORT_HOST_CONSOLE_CAPACITY - host.console_len;
    size_t n = len < room ? len : room;
    memcpy(host.console + host.console_len, text, n);
    host.console_len += n;
}

void port_console_write(const char *text, size_t len)
{
    host.console_writes++;
    void (*preempt)(void) = console_preempt;
    console_preempt = NULL;
    if (preempt == NULL) {
        console_store(text, len);
        return;
    }
    console_store(text, len / 2u);
    preempt();
    console_store(text + len / 2u, len - len / 2u);
}

const bw_flash_partition *port_flash_partition(bw_partition_id id)
{
    return (unsigned)id < BW_PARTITION_COUNT ? host.partitions[id] : NULL;
}

uint32_t *port_reset_surviving_ram(size_t *words)
{
    *words = host.reset_ram_words;
    return host.reset_ram_words != 0 ? host.reset_ram : NULL;
}

bw_address_kind port_address_kind(uint32_t address)
{
    return address - host.address_base < host.address_size ? host.address_kind : BW_ADDRESS_UNKNOWN;
}

bw_err port_provisioning_read(uint32_t offset, void *buf, uint32_t len)
{
    if (offset > sizeof host.provisioning || len > sizeof host.provisioning - offset) {
        return BW_E_SIZE;
    }
    memcpy(buf, host.provisioning + offset, len);
    return BW_OK;
}

void port_host_set_provisioning(uint32_t offset, const void *data, uint32_t len)
{
    memcpy(host.provisioning + offset, data, len);
}

void port_app_restart_request(void)
{
    host.restart_requests++;
}
