# FreeRTOS apps under the kernel (included by tests/qemu/CMakeLists.txt; only
# with FREERTOS_KERNEL_PATH, else sdk/freertos/bulwark_freertos.cmake prints
# why they are skipped). Each app checks its own results and exits 0 only if
# all passed; these lines check what the consoles show.
if(NOT BW_FREERTOS_FOUND)
  return()
endif()

# The demo (apps/freertos-demo): any FreeRTOS version string (releases print
# "V11.2.0", development trees "V11.1.0+"); the LED blinks, the logger's state reaches
# the kernel's log, and the ISR-woken task gets the 10 triggered tags exactly
# once each, in order (the app counts and prints "10 of 10 ... in order").
set(DEMO_TAGS "")
foreach(n RANGE 1 10)
  math(EXPR tag "0xD000 + ${n}" OUTPUT_FORMAT HEXADECIMAL)
  string(TOLOWER "${tag}" tag)
  string(REPLACE "0x" "" tag "${tag}")
  list(APPEND DEMO_TAGS "^waiter: woken by the notification ISR: tag 0x${tag}$")
endforeach()
string(JOIN "\n(?:.*\n)*?" DEMO_TAG_ORDER ${DEMO_TAGS})
bw_qemu_test(freertos-demo APP freertos-demo TIMEOUT 15 ARGS
  --expect-app "^freertos-demo: FreeRTOS [^ ]+ on Bulwark, wake reason 0$"
  --expect-app "^logger: mvServerLoggingInit -> 0x0$"
  --expect-app "^blink: LED on$" --expect-app "^blink: LED off$"
  --expect-app "${DEMO_TAG_ORDER}"
  --expect-app "^freertos-demo: 10 of 10 notifications in order, 10 wakes, [0-9]+ blinks, [0-9]+ logs, .* 0 errors\\x3b close OKAY$"
  --expect-app "^freertos-demo: done after [0-9]+ ms$"
  --expect-kernel "^\\[app-log\\] freertos-demo: [0-9]+ ms, [0-9]+ blinks, [0-9]+ notifications, [0-9]+ wakes$"
  --reject-kernel "app crash" --reject-kernel "KERNEL" --reject-kernel "dropped"
  --expect-kernel-count "app starting=1"
  --expect-kernel-count "Bulwark kernel=1")

# System calls under FreeRTOS preemption at a 10 kHz tick with TIMER0 and
# two notification ISRs firing (tests/qemu/apps/freertos-stress/main.c).
bw_qemu_test(freertos-stress APP qt-freertos-stress TIMEOUT 20 ARGS
  --expect-app "^freertos-stress: [0-9]+ checks, 0 failed$"
  --expect-app "^freertos-stress: producer 1 \\(task, priority 4\\): produced 1500 consumed 1500,"
  --expect-app "^freertos-stress: producer 3 \\(task, priority 2\\): produced 1500 consumed 1500,"
  --reject-kernel "app crash" --reject-kernel "KERNEL" --reject-kernel "dropped"
  --expect-kernel-count "app starting=1"
  --expect-kernel-count "Bulwark kernel=1")

# A crashing FreeRTOS task: the kernel logs the crash and restarts the app in
# place, twice (a SecureFault, then a failed configASSERT); each run checks
# FreeRTOS came up whole (tests/qemu/apps/freertos-crash/main.c). Two crashes
# stay below the kernel's crash-loop limit (BW_CRASH_LOOP_CRASHES, 3); the
# second restart waits BW_CRASH_RESTART_MIN_MS (100 ms) of backoff.
bw_qemu_test(freertos-crash APP qt-freertos-crash TIMEOUT 20 ARGS
  --expect-app "^freertos-crash: [0-9]+ checks, 0 failed$"
  --expect-app "^FreeRTOS assert failed: main.c:[0-9]+$"
  --expect-app "^freertos-crash: run 3 of 3, wake reason 8, tick 10000 Hz$"
  --expect-kernel "app crash: SecureFault: secure memory access \\(SecureFault AUVIOL\\)"
  --expect-kernel "app crash: HardFault: undefined instruction \\(UsageFault UNDEFINSTR\\)"
  --expect-kernel "^\\[app-log\\] freertos-crash: run 1 healthy$\n(?:.*\n)*?.*app crash(?:.*\n)*?.*app starting \\(wake reason 8\\)\n(?:.*\n)*?\\[app-log\\] freertos-crash: run 2 healthy$"
  --expect-kernel "^\\[app-log\\] freertos-crash: run 3 healthy$"
  --expect-kernel-count "app crash:=2"
  --expect-kernel-count "app starting \\(wake reason 0\\)=1"
  --expect-kernel-count "app starting \\(wake reason 8\\)=2"
  --reject-kernel "KERNEL"
  --expect-kernel-count "Bulwark kernel=1")

# Crash and update: a device running the bare-metal app A receives a FreeRTOS
# app F (version 2) by local delivery; then, while F runs with its SysTick at
# 10 kHz and a task that never blocks, F version 3 is installed over it. Each
# version starts with wake reason APPLICATIONUPDATE (9), passes the checks of
# freertos-crash (tests/qemu/apps/freertos-update/main.c) and confirms itself
# healthy; the kernel logs no crash (run_update_test.py --scenario freertos).
add_test(NAME qemu.freertos-update
  COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/run_update_test.py --scenario freertos
    --name qemu.freertos-update ${BW_UPDATE_TEST_ARGS}
    --app-f $<TARGET_FILE_DIR:qt-freertos-update>/qt-freertos-update.bin
    --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/freertos-update)
set_tests_properties(qemu.freertos-update PROPERTIES TIMEOUT 90 LABELS qemu SKIP_RETURN_CODE 77)

# The channel demos' FreeRTOS variants (apps/common/demo_main_freertos.c):
# the same steps as qemu.http.story, qemu.config.story and qemu.mqtt.story,
# in a task woken through a semaphore, another task running meanwhile.
bw_story_test(http.story-freertos SCRIPT run_http_test.py APP http-demo-freertos TIMEOUT 240 ARGS --freertos)
bw_story_test(config.story-freertos SCRIPT run_config_test.py APP config-demo-freertos TIMEOUT 240 ARGS --freertos)
bw_story_test(mqtt.story-freertos SCRIPT run_mqtt_test.py APP mqtt-demo-freertos TIMEOUT 300
  ARGS --freertos ${BW_MQTT_STORY_ARGS})
