/*
 * Channels (see bw_channel.h): the table, open and close, the open-rate
 * window, the OPAQUEBYTES rings and what a lost link does.
 *
 * Rings use free-running 32-bit indices (read, write); unread = write - read
 * never exceeds the buffer length, which is at most BW_CHANNEL_BUFFER_MAX.
 * Bytes move between app memory and the ring under port_irq_lock, so a
 * channel closed by a preempting call is never written after its close.
 */
#include "bw_app_mem.h"
#include "bw_channel.h"
#include "bw_channel_table.h"
#include "bw_handles.h"
#include "bw_appmqtt.h"
#include "bw_network.h"
#include "bw_notify.h"
#include "bw_port.h"

bw_channel_entry bw_channel_entries[BW_CHANNELS_MAX];

static bw_channel_endpoint_fn endpoint_served;
static uint64_t opened_at[BW_CHANNEL_OPENS_PER_SECOND];   /* the latest opens, a ring */
static uint32_t opens;                                    /* count since reset */

void bw_channel_set_endpoints(bw_channel_endpoint_fn served)
{
    endpoint_served = served;
}

void bw_channel_reset(void)
{
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        bw_channel_entries[i] = (bw_channel_entry){ 0 };
    }
    for (size_t i = 0; i < BW_CHANNEL_OPENS_PER_SECOND; i++) {
        opened_at[i] = 0;
    }
    opens = 0;
    port_irq_unlock(state);
    bw_appmqtt_reset();
}

void bw_channel_app_starting(void)
{
    uint32_t state = port_irq_lock();
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        bw_channel_entry *e = &bw_channel_entries[i];
        if (e->handle != 0 && e->type == MV_CHANNELTYPE_MQTT && e->connected) {
            bw_appmqtt_channel_gone(e->mqtt.session_id);
        }
        bw_channel_entries[i] = (bw_channel_entry){ 0 };
    }
    port_irq_unlock(state);
    bw_handle_free_all_of_kind(BW_HANDLE_KIND_CHANNEL);
}

bw_channel_entry *bw_channel_entry_of(uint32_t handle)
{
    uint32_t index;
    if (bw_handle_lookup(handle, BW_HANDLE_KIND_CHANNEL, &index) != BW_OK || index >= BW_CHANNELS_MAX) {
        return NULL;
    }
    return &bw_channel_entries[index];
}

static bool overlaps(uintptr_t a, uint32_t a_len, uintptr_t b, uint32_t b_len)
{
    return a < b + b_len && b < a + a_len;
}

static bw_err check_buffer(uintptr_t addr, uint32_t len)
{
    if (len == 0 || len % BW_CHANNEL_BUFFER_ALIGN != 0 || len > BW_CHANNEL_BUFFER_MAX) {
        return BW_E_SIZE;
    }
    if (addr % BW_CHANNEL_BUFFER_ALIGN != 0) {
        return BW_E_ALIGN;
    }
    return BW_OK;
}

/* Type and endpoint: HTTP, config fetch and MQTT need none; others need a relay that serves them. */
static bw_err check_type(const bw_channel_open_params *p)
{
    switch (p->type) {
    case MV_CHANNELTYPE_HTTP:
    case MV_CHANNELTYPE_CONFIGFETCH:
    case MV_CHANNELTYPE_MQTT:   /* the broker is named by the connect request */
        return BW_OK;
    case MV_CHANNELTYPE_OPAQUEBYTES:
        break;
    default:
        return BW_E_CHANNEL_TYPE;
    }
    if (endpoint_served == NULL || p->endpoint_len > BW_CHANNEL_ENDPOINT_MAX
        || !endpoint_served(p->type, p->endpoint, p->endpoint_len)) {
        return BW_E_ENDPOINT;
    }
    return BW_OK;
}

/* The buffers against each other and every open channel's (lock held). */
static bool buffers_in_use(const bw_channel_open_params *p)
{
    if (overlaps(p->rx, p->rx_len, p->tx, p->tx_len)) {
        return true;
    }
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        const bw_channel_entry *e = &bw_channel_entries[i];
        if (e->handle == 0) {
            continue;
        }
        if (overlaps(p->rx, p->rx_len, e->rx, e->rx_len) || overlaps(p->rx, p->rx_len, e->tx, e->tx_len)
            || overlaps(p->tx, p->tx_len, e->rx, e->rx_len) || overlaps(p->tx, p->tx_len, e->tx, e->tx_len)) {
            return true;
        }
    }
    return false;
}

/* True if BW_CHANNEL_OPENS_PER_SECOND opens happened in the second before now (lock held). */
static bool rate_limited(uint64_t now_us)
{
    if (opens < BW_CHANNEL_OPENS_PER_SECOND) {
        return false;
    }
    uint64_t oldest = opened_at[opens % BW_CHANNEL_OPENS_PER_SECOND];
    return now_us - oldest < 1000000u;
}

bw_err bw_channel_open(const bw_channel_open_params *p, uint64_t now_us, uint32_t *handle_out)
{
    bw_err err = check_type(p);
    if (err == BW_OK) {
        err = check_buffer(p->rx, p->rx_len);
    }
    if (err == BW_OK) {
        err = check_buffer(p->tx, p->tx_len);
    }
    if (err == BW_OK) {
        err = bw_app_check_range(p->rx, p->rx_len, BW_ACCESS_READWRITE);
    }
    if (err == BW_OK) {
        err = bw_app_check_range(p->tx, p->tx_len, BW_ACCESS_READWRITE);
    }
    if (err != BW_OK) {
        return err;
    }
    uint32_t center_index;
    if (bw_handle_lookup(p->notification_handle, BW_HANDLE_KIND_NOTIFICATION, &center_index) != BW_OK) {
        return BW_E_HANDLE;
    }
    enum MvNetworkStatus link = MV_NETWORKSTATUS_DELIBERATELYOFFLINE;
    if (bw_network_status(p->network_handle, &link) != BW_OK) {
        return BW_E_HANDLE;
    }
    if (link != MV_NETWORKSTATUS_CONNECTED) {
        return BW_E_OFFLINE;
    }
    uint32_t state = port_irq_lock();
    size_t index = BW_CHANNELS_MAX;
    if (buffers_in_use(p)) {
        err = BW_E_IN_USE;
    } else if (rate_limited(now_us)) {
        err = BW_E_RATE;
    } else {
        for (size_t i = 0; i < BW_CHANNELS_MAX && index == BW_CHANNELS_MAX; i++) {
            if (bw_channel_entries[i].handle == 0 && !bw_channel_entries[i].claimed) {
                index = i;
            }
        }
        err = index == BW_CHANNELS_MAX ? BW_E_CHANNELS : BW_OK;
    }
    if (err == BW_OK) {
        bw_channel_entries[index] = (bw_channel_entry){ .claimed = true, .rx = p->rx, .rx_len = p->rx_len,
                                                        .tx = p->tx, .tx_len = p->tx_len };
    }
    port_irq_unlock(state);
    if (err != BW_OK) {
        return err;
    }
    uint32_t handle = 0;
    err = bw_handle_alloc(BW_HANDLE_KIND_CHANNEL, (uint32_t)index, &handle);
    uint32_t session_id = p->type == MV_CHANNELTYPE_MQTT ? bw_appmqtt_new_session_id() : 0u;
    state = port_irq_lock();
    if (err != BW_OK) {
        bw_channel_entries[index] = (bw_channel_entry){ 0 };
    } else {
        bw_channel_entry *e = &bw_channel_entries[index];
        e->claimed = false;
        e->handle = handle;
        e->connected = true;
        e->reason = MV_CLOSUREREASON_NONE;
        e->center = p->notification_handle;
        e->tag = p->tag;
        e->type = p->type;
        e->mqtt.session_id = session_id;
        opened_at[opens % BW_CHANNEL_OPENS_PER_SECOND] = now_us;
        opens++;
    }
    port_irq_unlock(state);
    if (err == BW_OK) {
        *handle_out = handle;
    }
    return err;
}

bw_err bw_channel_close(uint32_t handle)
{
    bw_channel_entry *e = bw_channel_entry_of(handle);
    if (e == NULL) {
        return BW_E_HANDLE;
    }
    bw_err err = bw_handle_free(handle, BW_HANDLE_KIND_CHANNEL);
    if (err != BW_OK) {
        return err;   /* a preempting call closed it first */
    }
    uint32_t state = port_irq_lock();
    if (e->handle == handle) {
        if (e->type == MV_CHANNELTYPE_MQTT && e->connected) {
            bw_appmqtt_channel_gone(e->mqtt.session_id);
        }
        *e = (bw_channel_entry){ 0 };
    }
    port_irq_unlock(state);
    return BW_OK;
}

/* A snapshot of the live channel handle names (false if none). */
static bool snapshot(uint32_t handle, bw_channel_entry *copy)
{
    bw_channel_entry *e = bw_channel_entry_of(handle);
    if (e == NULL) {
        return false;
    }
    uint32_t state = port_irq_lock();
    bool live = e->handle == handle;
    if (live) {
        *copy = *e;
    }
    port_irq_unlock(state);
    return live;
}

bw_err bw_channel_closure_reason(uint32_t handle, enum MvClosureReason *reason)
{
    bw_channel_entry e;
    if (!snapshot(handle, &e)) {
        return BW_E_HANDLE;
    }
    *reason = e.reason;
    return BW_OK;
}

bw_err bw_channel_type(uint32_t handle, uint32_t *type)
{
    bw_channel_entry e;
    if (!snapshot(handle, &e)) {
        return BW_E_HANDLE;
    }
    *type = e.type;
    return BW_OK;
}

bw_channel_entry *bw_channel_lock(uint32_t handle, uint32_t type, uint32_t *state, bw_err *err)
{
    bw_channel_entry *e = bw_channel_entry_of(handle);
    if (e == NULL) {
        *err = BW_E_HANDLE;
        return NULL;
    }
    *state = port_irq_lock();
    *err = e->handle != handle ? BW_E_HANDLE : e->type != type ? BW_E_UNAVAILABLE : BW_OK;
    if (*err != BW_OK) {
        port_irq_unlock(*state);
        return NULL;
    }
    return e;
}

/* The locked entry of a live OPAQUEBYTES channel (bw_channel_lock). */
static bw_channel_entry *lock_bytes(uint32_t handle, uint32_t *state, bw_err *err)
{
    return bw_channel_lock(handle, MV_CHANNELTYPE_OPAQUEBYTES, state, err);
}

bw_err bw_channel_read(uint32_t handle, uintptr_t *app_data, uint32_t *len)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_bytes(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    uint32_t unread = e->rx_write - e->rx_read;
    uint32_t at = e->rx_read % e->rx_len;
    uint32_t contiguous = e->rx_len - at;
    bool drained_and_closed = unread == 0 && !e->connected;
    *app_data = e->rx + at;
    *len = unread < contiguous ? unread : contiguous;
    port_irq_unlock(state);
    return drained_and_closed ? BW_E_CLOSED : BW_OK;
}

bw_err bw_channel_read_complete(uint32_t handle, uint32_t consumed)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_bytes(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    if (consumed > e->rx_write - e->rx_read) {
        err = BW_E_SIZE;
    } else {
        e->rx_read += consumed;
    }
    port_irq_unlock(state);
    return err;
}

bw_err bw_channel_write(uint32_t handle, uintptr_t app_data, uint32_t len, bool whole,
                        uint32_t *written, uint32_t *space)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_bytes(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    uint32_t free_space = e->tx_len - (e->tx_write - e->tx_read);
    uint32_t n = len < free_space ? len : free_space;
    if (!e->connected) {
        err = BW_E_CLOSED;
    } else if (whole && len > free_space) {
        err = BW_E_SIZE;
    } else if (len > 0) {
        err = bw_app_check_range(app_data, len, BW_ACCESS_READ);
    }
    for (uint32_t done = 0; err == BW_OK && done < n;) {
        uint32_t at = (e->tx_write + done) % e->tx_len;
        uint32_t piece = e->tx_len - at < n - done ? e->tx_len - at : n - done;
        err = bw_app_copy_within(e->tx + at, app_data + done, piece);
        done += piece;
    }
    if (err == BW_OK) {
        e->tx_write += n;
        *written = n;
        *space = free_space - n;
    }
    port_irq_unlock(state);
    return err;
}

/* The center and tag of a live channel, for a notification sent after unlocking. */
static void notify(uint32_t center, uint32_t tag, enum MvEventType event)
{
    (void)bw_notify_trigger(center, event, tag);   /* a center closed meanwhile refuses */
}

bw_err bw_channel_deliver(uint32_t handle, const uint8_t *data, size_t len, size_t *taken)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_bytes(handle, &state, &err);
    if (e == NULL) {
        return err;
    }
    uint32_t room = e->rx_len - (e->rx_write - e->rx_read);
    uint32_t n = len < room ? (uint32_t)len : room;
    err = e->connected ? BW_OK : BW_E_CLOSED;
    for (uint32_t done = 0; err == BW_OK && done < n;) {
        uint32_t at = (e->rx_write + done) % e->rx_len;
        uint32_t piece = e->rx_len - at < n - done ? e->rx_len - at : n - done;
        err = bw_app_copy_out(e->rx + at, data + done, piece);
        done += piece;
    }
    uint32_t center = e->center;
    uint32_t tag = e->tag;
    if (err == BW_OK) {
        e->rx_write += n;
        *taken = n;
    }
    port_irq_unlock(state);
    if (err == BW_OK && n > 0) {
        notify(center, tag, MV_EVENTTYPE_CHANNELDATAREADABLE);
    }
    return err;
}

size_t bw_channel_take(uint32_t handle, uint8_t *buf, size_t cap)
{
    uint32_t state;
    bw_err err;
    bw_channel_entry *e = lock_bytes(handle, &state, &err);
    if (e == NULL) {
        return 0;
    }
    uint32_t pending = e->tx_write - e->tx_read;
    uint32_t n = cap < pending ? (uint32_t)cap : pending;
    for (uint32_t done = 0; err == BW_OK && done < n;) {
        uint32_t at = (e->tx_read + done) % e->tx_len;
        uint32_t piece = e->tx_len - at < n - done ? e->tx_len - at : n - done;
        err = bw_app_copy_in(buf + done, e->tx + at, piece);
        done += piece;
    }
    uint32_t center = e->center;
    uint32_t tag = e->tag;
    if (err == BW_OK) {
        e->tx_read += n;
    }
    port_irq_unlock(state);
    if (err != BW_OK) {
        return 0;
    }
    if (n > 0) {
        notify(center, tag, MV_EVENTTYPE_CHANNELDATAWRITESPACE);
    }
    return n;
}

void bw_channel_link_down(void)
{
    for (size_t i = 0; i < BW_CHANNELS_MAX; i++) {
        uint32_t state = port_irq_lock();
        bw_channel_entry *e = &bw_channel_entries[i];
        bool dropped = e->handle != 0 && e->connected;
        if (dropped) {
            e->connected = false;
            e->reason = MV_CLOSUREREASON_NETWORKDISCONNECTED;
        }
        uint32_t center = e->center;
        uint32_t tag = e->tag;
        port_irq_unlock(state);
        if (dropped) {
            notify(center, tag, MV_EVENTTYPE_CHANNELNOTCONNECTED);
        }
    }
}

size_t bw_channel_count(void)
{
    return bw_handle_count(BW_HANDLE_KIND_CHANNEL);
}
