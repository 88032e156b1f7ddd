/*
 * Local delivery of update bundles over the modem link (docs/SPEC.md §9):
 * the device side of `bulwark device deliver`. Frames come from the board's
 * link (bw_board.h) through the decoder (bw_link.h); bundles go to the
 * update engine through the same entry points OTA uses (bw_update_begin,
 * write, finish) and are installed by update_service_install.
 * Kernel loop only (never an interrupt, a system call or the supervisor thread).
 */
#ifndef LINK_SERVICE_H
#define LINK_SERVICE_H

/* Starts the link on the first call; then decodes every queued byte and
 * answers each complete request. Returns when no byte is queued. */
void link_service_work(void);

#endif
