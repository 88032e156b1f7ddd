/* The kernel's version: what apps' bundles compare their minimum kernel version with. */
#ifndef BW_VERSION_H
#define BW_VERSION_H

#define BW_KERNEL_VERSION_MAJOR 0
#define BW_KERNEL_VERSION_MINOR 1
#define BW_KERNEL_VERSION_PATCH 0
#define BW_KERNEL_VERSION_STRING "0.1.0"

#endif
