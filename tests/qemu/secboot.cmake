# The boot stub's checks (docs/SPEC.md §19.3): the good boot, and each refusal
# printing its reason and never starting the kernel (the stub ends the
# emulation with exit code 3). The refused kernels are made from the build's
# signed kernel by make_kernel_variants.py (fixture qemu.secboot.variants).
set(BW_SECBOOT_VARIANTS ${CMAKE_CURRENT_BINARY_DIR}/work/secboot-variants)
set(BW_KERNEL_SIGNED $<TARGET_FILE_DIR:bulwark-kernel>/bulwark-kernel.signed)
# A kernel that never confirms its trial (docs/SPEC.md §19.5): bw_kslots_confirm wrapped away.
bw_add_kernel(bulwark-kernel-noconfirm
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/kernel_hooks/no_confirm.c
  LINK_OPTIONS -Wl,--wrap=bw_kslots_confirm)
# The same, with a 3 s trial deadline (trial_deadline_short.c): it resets itself
# unconfirmed, so the stub's bounded trial and revert run in one power-on.
bw_add_kernel(bulwark-kernel-noconfirm-deadline
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/kernel_hooks/no_confirm.c
          ${CMAKE_CURRENT_SOURCE_DIR}/kernel_hooks/trial_deadline_short.c
  LINK_OPTIONS -Wl,--wrap=bw_kslots_confirm)
add_test(NAME qemu.secboot.variants
  COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/make_kernel_variants.py --bulwark ${BW_CLI}
    --noconfirm-bin $<TARGET_FILE_DIR:bulwark-kernel-noconfirm>/bulwark-kernel-noconfirm.bin
    --noconfirm-deadline-bin
      $<TARGET_FILE_DIR:bulwark-kernel-noconfirm-deadline>/bulwark-kernel-noconfirm-deadline.bin
    --keys ${BW_KERNEL_KEYS_DIR} --bin $<TARGET_FILE_DIR:bulwark-kernel>/bulwark-kernel.bin
    --signed ${BW_KERNEL_SIGNED} --version ${BW_KERNEL_VERSION} --out ${BW_SECBOOT_VARIANTS})
set_tests_properties(qemu.secboot.variants PROPERTIES FIXTURES_SETUP secboot_variants LABELS qemu
  SKIP_RETURN_CODE 77)

# bw_secboot_test(<name> <kernel file> [run_test.py args...])
function(bw_secboot_test name kernel)
  add_test(NAME qemu.secboot.${name}
    COMMAND ${BW_RUN_TEST} --name qemu.secboot.${name} --emu ${BW_EMU}
      --boot $<TARGET_FILE:bulwark-boot> --kernel ${kernel} --app $<TARGET_FILE:hello>
      --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/secboot.${name} --timeout 20 ${ARGN})
  set_tests_properties(qemu.secboot.${name} PROPERTIES TIMEOUT 60 LABELS qemu
    FIXTURES_REQUIRED secboot_variants)
endfunction()

# The counter equal to the kernel's version (0.1.0 = 0x00010000) still boots.
bw_secboot_test(good ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --expect-kernel "^\\[boot\\] kernel ${BW_KERNEL_VERSION} verified$"
  --expect-kernel "^\\[kernel\\] Bulwark kernel .* on qemu-an505"
  --expect-kernel "\\[app-log\\] hello logs through the kernel"
  --expect-kernel-count "\\[boot\\]=1" --reject-kernel "refused")

# name, kernel file, the reason the stub prints (a regex), run_test.py args
function(bw_secboot_refusal name kernel reason)
  bw_secboot_test(${name} ${kernel} --expect-exit 3 ${ARGN}
    --expect-kernel "^\\[boot\\] kernel refused: ${reason}$"
    --expect-kernel-count "\\[boot\\]=1" --reject-kernel "Bulwark kernel")
endfunction()
bw_secboot_refusal(unsigned $<TARGET_FILE:bulwark-kernel> "no kernel \\(the seal area is erased\\)")
bw_secboot_refusal(garbage ${BW_SECBOOT_VARIANTS}/garbage.signed
  "malformed seal \\(magic, version, size or reserved bytes\\)")
bw_secboot_refusal(bad-signature ${BW_SECBOOT_VARIANTS}/bad-signature.signed "bad kernel signature")
bw_secboot_refusal(tampered ${BW_SECBOOT_VARIANTS}/tampered.signed "kernel image tampered \\(hash mismatch\\)")
bw_secboot_refusal(other-root ${BW_SECBOOT_VARIANTS}/other-root.signed "certificate chain to an unknown root")
bw_secboot_refusal(not-by-root ${BW_SECBOOT_VARIANTS}/not-by-root.signed "certificate not signed by the root")
bw_secboot_refusal(wrong-usage ${BW_SECBOOT_VARIANTS}/wrong-usage.signed "certificate not for kernel signing")
set(BW_SECBOOT_EXPIRED "certificate not valid when the kernel was signed \\(expired or not yet valid\\)")
bw_secboot_refusal(expired ${BW_SECBOOT_VARIANTS}/expired.signed "${BW_SECBOOT_EXPIRED}")
bw_secboot_refusal(not-yet-valid ${BW_SECBOOT_VARIANTS}/not-yet-valid.signed "${BW_SECBOOT_EXPIRED}")
bw_secboot_refusal(rollback ${BW_KERNEL_SIGNED} "kernel version below the anti-rollback counter"
  --rollback 0x00010001)

# The two kernel copies (docs/SPEC.md §19.5), power-on after power-on of one flash
# image (run_kslots_test.py): a newer kernel on trial confirms and the counter rises;
# one that never confirms is reverted after 3 boots; refused staged kernels leave the
# slot alone; garbage in the slot with a good backup is restored from it; garbage
# in the slot and the backup halts with both reasons. The
# app (qt-update-a) confirms itself healthy at once and keeps running.
# bw_kslots_test(<name> <scenario> [run_kslots_test.py args...])
function(bw_kslots_test name scenario)
  add_test(NAME qemu.secboot.kslots.${name}
    COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/run_kslots_test.py --name qemu.secboot.kslots.${name}
      --scenario ${scenario} --bulwark ${BW_CLI} --emu ${BW_EMU} --boot $<TARGET_FILE:bulwark-boot>
      --app $<TARGET_FILE:qt-update-a> --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/kslots.${name} ${ARGN})
  set_tests_properties(qemu.secboot.kslots.${name} PROPERTIES TIMEOUT 400 LABELS qemu
    FIXTURES_REQUIRED secboot_variants SKIP_RETURN_CODE 77)
endfunction()
bw_kslots_test(confirm confirm --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/newer.signed)
bw_kslots_test(never-confirms never-confirms --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/noconfirm-newer.signed)
# A staged kernel that never confirms and resets itself at its trial deadline:
# three trial boots and the revert in one power-on, no power cut needed.
bw_kslots_test(deadline deadline --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/noconfirm-deadline-newer.signed)
bw_kslots_test(refused-tampered refused --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/tampered.signed --reason "kernel image tampered \\(hash mismatch\\)")
bw_kslots_test(refused-older refused --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/older.signed --reason "kernel version below the anti-rollback counter")
bw_kslots_test(refused-other-root refused --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/other-root.signed --reason "certificate chain to an unknown root")
bw_kslots_test(refused-wrong-usage refused --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/wrong-usage.signed --reason "certificate not for kernel signing")
bw_kslots_test(refused-garbage refused --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/garbage.signed
  --reason "malformed seal \\(magic, version, size or reserved bytes\\)")
# Power cuts (kill -9 of QEMU) inside the stub's copies of a swap, 16 runs: the
# recovery boot always starts a verified kernel filling the slot exactly, and the
# device ends on the new kernel, confirmed (a padded kernel makes the copy long).
bw_kslots_test(kill kill --kernel ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --staged ${BW_SECBOOT_VARIANTS}/padded-newer.signed --runs 16)
bw_kslots_test(restore restore --kernel ${BW_SECBOOT_VARIANTS}/garbage.signed
  --backup ${BW_KERNEL_SIGNED}
  --reason "malformed seal \\(magic, version, size or reserved bytes\\)")
bw_kslots_test(both-bad both-bad --kernel ${BW_SECBOOT_VARIANTS}/garbage.signed
  --backup ${BW_SECBOOT_VARIANTS}/garbage.signed
  --reason "malformed seal \\(magic, version, size or reserved bytes\\)")

# Kernel delivery over the local link (docs/SPEC.md §19.6, run_kdeliver_test.py):
# each kernel the device must refuse, refused with its reason while the old
# kernel and the app run on; then the newer kernel delivered, staged, swapped
# in by the stub, confirmed, the counter raised at the next power-on; and a
# delivery cut by a power loss half-way resumes from the journaled offset.
set(BW_KDELIVER_ARGS --bulwark ${BW_CLI} --emu ${BW_EMU} --boot $<TARGET_FILE:bulwark-boot>
  --kernel ${BW_KERNEL_SIGNED} --app $<TARGET_FILE:qt-update-a> --rollback 0x00010000
  --newer ${BW_SECBOOT_VARIANTS}/newer.signed)
add_test(NAME qemu.secboot.kdeliver
  COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/run_kdeliver_test.py --name qemu.secboot.kdeliver
    --scenario deliver ${BW_KDELIVER_ARGS} --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/kdeliver
    --refuse "${BW_SECBOOT_VARIANTS}/tampered-newer.signed=kernel refused: kernel image tampered \\(hash mismatch\\)"
    --refuse "${BW_SECBOOT_VARIANTS}/other-root-newer.signed=kernel refused: certificate chain to an unknown root"
    --refuse "${BW_SECBOOT_VARIANTS}/not-by-root-newer.signed=kernel refused: certificate not signed by the root"
    --refuse "${BW_SECBOOT_VARIANTS}/wrong-usage-newer.signed=kernel refused: certificate not for kernel signing"
    --refuse "${BW_SECBOOT_VARIANTS}/bad-signature-newer.signed=kernel refused: bad kernel signature"
    --refuse "${BW_SECBOOT_VARIANTS}/expired-newer.signed=kernel refused: certificate not valid when the kernel was signed"
    --refuse "${BW_SECBOOT_VARIANTS}/older.signed=kernel 0\\.0\\.1 is not newer than the running kernel"
    --refuse "${BW_SECBOOT_VARIANTS}/garbage.signed=kernel refused: malformed seal")
set_tests_properties(qemu.secboot.kdeliver PROPERTIES TIMEOUT 600 LABELS qemu
  FIXTURES_REQUIRED secboot_variants SKIP_RETURN_CODE 77)
add_test(NAME qemu.secboot.kdeliver.resume
  COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/run_kdeliver_test.py --name qemu.secboot.kdeliver.resume
    --scenario resume ${BW_KDELIVER_ARGS} --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/kdeliver.resume)
set_tests_properties(qemu.secboot.kdeliver.resume PROPERTIES TIMEOUT 400 LABELS qemu
  FIXTURES_REQUIRED secboot_variants SKIP_RETURN_CODE 77)

# Kernel updates over the air (docs/SPEC.md §19.7, run_kernel_ota_test.py):
# bulwarkd's refusals of bad uploads; kernels the device refuses (unknown root,
# not newer, altered in storage) reported with the reason while it runs on;
# the newer kernel deployed, staged, swapped in by the stub, confirmed once
# the cloud is reached, healthy, and its version in the device's STATUS.
add_test(NAME qemu.ota.kernel
  COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/run_kernel_ota_test.py ${BW_UPDATE_TEST_ARGS}
    --app $<TARGET_FILE:cloud-demo> --variants ${BW_SECBOOT_VARIANTS} --kernel-keys ${BW_KERNEL_KEYS_DIR}
    --bulwarkd ${BW_HOST_TOOLS_DIR}/cloud/bulwarkd/bulwarkd
    --plugin ${BW_HOST_TOOLS_DIR}/cloud/broker/bw_registry_plugin.so
    --modem ${BW_HOST_TOOLS_DIR}/emu/modem/bulwark-modem
    --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/ota.kernel)
set_tests_properties(qemu.ota.kernel PROPERTIES TIMEOUT 900 LABELS qemu
  FIXTURES_REQUIRED secboot_variants SKIP_RETURN_CODE 77)
