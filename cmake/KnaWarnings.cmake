# Compiler flags shared by every target: warnings (errors by default) and optional sanitizers.
function(kna_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  if(KNA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(arm|aarch64)")  # GCC notes on ABI changes of old releases
    target_compile_options(${target} PRIVATE -Wno-psabi)
  endif()
endfunction()

if(KNA_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(KNA_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(NOT KNA_SANITIZE STREQUAL "")
  message(FATAL_ERROR "KNA_SANITIZE must be '', 'address' or 'thread', not '${KNA_SANITIZE}'")
endif()
