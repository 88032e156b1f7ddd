/*
 * `bulwark kernels upload|list|show`: signed kernel files (`bulwark kernel
 * sign`, docs/SPEC.md §19.2) uploaded to bulwarkd for over-the-air kernel
 * updates (docs/API.md, /v1/kernels; deployed with `bulwark deploy --kernel`).
 * bulwarkd checks each as the boot stub will and refuses it with a reason
 * (exit 1). Exit codes: 0 done, 1 refused or unreachable, 2 bad usage.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "lib_uploads.h"

static void print_kernel(const json_t *k)
{
    bool checked = json_is_true(json_object_get(k, "root_checked"));
    printf("kernel %" JSON_INTEGER_FORMAT ": version %s, board %s, %" JSON_INTEGER_FORMAT " bytes, root %s (%s)\n",
           json_integer_value(json_object_get(k, "id")), json_string_value(json_object_get(k, "kernel_version")),
           json_string_value(json_object_get(k, "board")), json_integer_value(json_object_get(k, "size")),
           json_string_value(json_object_get(k, "root_key_id")),
           checked ? "the fleet's kernel root" : "not checked: the fleet has no kernel-root.pub");
    printf("  seal %" JSON_INTEGER_FORMAT " bytes, sha256 %s\n  image %" JSON_INTEGER_FORMAT " bytes, sha256 %s\n",
           json_integer_value(json_object_get(k, "head_length")), json_string_value(json_object_get(k, "head_hash")),
           json_integer_value(json_object_get(k, "image_size")), json_string_value(json_object_get(k, "image_hash")));
}

static const upload_kind kernels = { .group = "kernels", .noun = "kernel", .path = "/v1/kernels",
                                     .print = print_kernel };

static int kernels_upload(int argc, char **argv) { return uploads_upload(&kernels, argc, argv); }
static int kernels_list(int argc, char **argv) { return uploads_list(&kernels, argc, argv); }
static int kernels_show(int argc, char **argv) { return uploads_show(&kernels, argc, argv); }

static const cli_command kernels_commands[] = {
    { "upload", "KERNEL.signed [--json] [--server URL] [--token T]",
      "upload a signed kernel file; bulwarkd checks its seal, chain and image", kernels_upload },
    { "list", "[--json] [--server URL] [--token T]", "the uploaded kernels, newest first", kernels_list },
    { "show", "ID [--json] [--server URL] [--token T]", "one uploaded kernel", kernels_show },
};

const cli_group cli_group_kernels = {
    .name = "kernels",
    .summary = "signed kernels uploaded to bulwarkd for over-the-air kernel updates",
    .commands = kernels_commands,
    .command_count = sizeof kernels_commands / sizeof kernels_commands[0],
};
