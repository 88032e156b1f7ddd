# cmake -DCLI=<bulwark> -DKEY=<root.pub> -DOUT=<header> -P root_hash_header.cmake
# Writes the C initializer of the root key's SHA-256 (`bulwark keys root-hash`).
execute_process(COMMAND ${CLI} keys root-hash ${KEY} OUTPUT_VARIABLE hex RESULT_VARIABLE rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR NOT hex MATCHES "^[0-9a-f]+$")
  message(FATAL_ERROR "bulwark keys root-hash ${KEY} failed")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* The build's kernel root: SHA-256 of ${KEY}. Generated; do not edit. */\n"
  "#define BOOT_ROOT_HASH {${bytes}}\n")
