/* Second-cut coverage of a sweep's recoveries (sim_cover.h). */
#include "sim_cover.h"

#include <stdlib.h>

#include "sim_check.h"

sim_recovery *sim_cover_get(sim_cover *cover, uint64_t trace, uint64_t ops, uint64_t cut, unsigned tear,
                            nor_sim_snapshot *cut_state)
{
    for (size_t i = 0; i < cover->count; i++) {
        sim_recovery *r = &cover->items[i];
        if (r->trace == trace) {
            CHECK(r->ops == ops, "one trace, two recoveries of %llu and %llu operations",
                  (unsigned long long)r->ops, (unsigned long long)ops);
            return r;
        }
    }
    if (cover->count == cover->cap) {
        cover->cap = cover->cap != 0 ? 2u * cover->cap : 64u;
        cover->items = realloc(cover->items, cover->cap * sizeof *cover->items);
        CHECK(cover->items != NULL, "out of memory");
    }
    sim_recovery *r = &cover->items[cover->count++];
    *r = (sim_recovery){ .trace = trace, .ops = ops, .uncut = ops, .cut = cut, .tear = tear,
                         .state = ops != 0 ? cut_state : NULL, .done = calloc(ops != 0 ? ops : 1u, 1) };
    CHECK(r->done != NULL, "out of memory");
    return r;
}

void sim_cover_release(sim_cover *cover, nor_sim_snapshot *cut_state)
{
    for (size_t i = 0; i < cover->count; i++) {
        if (cover->items[i].state == cut_state) {
            return;
        }
    }
    nor_sim_snapshot_free(cut_state);
}

uint64_t sim_cover_pick(const sim_recovery *r, uint64_t from)
{
    from %= r->ops;
    for (uint64_t i = 0; i < r->ops && r->uncut != 0; i++) {
        uint64_t op = (from + i) % r->ops;
        if (!r->done[op]) {
            return op;
        }
    }
    return from;
}

void sim_cover_mark(sim_cover *cover, sim_recovery *r, uint64_t op)
{
    CHECK(op < r->ops, "second cut at %llu of %llu operations", (unsigned long long)op,
          (unsigned long long)r->ops);
    r->uncut -= r->done[op] == 0;
    r->done[op] = 1;
    cover->second_cuts++;
}

void sim_cover_last_pass(sim_cover *cover, void (*cut)(void *ctx, sim_recovery *r, uint64_t op), void *ctx)
{
    for (size_t i = 0; i < cover->count; i++) {
        sim_recovery *r = &cover->items[i];
        for (uint64_t op = 0; op < r->ops && r->uncut != 0; op++) {
            if (!r->done[op]) {
                cut(ctx, r, op);
                CHECK(r->done[op], "the last pass's cut did not mark operation %llu", (unsigned long long)op);
                cover->top_up_cuts++;
            }
        }
    }
}

uint64_t sim_cover_finish(sim_cover *cover)
{
    uint64_t total = 0;
    for (size_t i = 0; i < cover->count; i++) {
        sim_recovery *r = &cover->items[i];
        CHECK(r->uncut == 0, "%llu of the %llu operations of the recovery after the cut at %llu "
              "(tear %u) never cut", (unsigned long long)r->uncut, (unsigned long long)r->ops,
              (unsigned long long)r->cut, r->tear);
        total += r->ops;
        nor_sim_snapshot_free(r->state);
        free(r->done);
    }
    free(cover->items);
    cover->items = NULL;
    cover->count = cover->cap = 0;
    return total;
}
