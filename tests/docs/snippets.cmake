# Extraction of the C++ code blocks of a Markdown page (label "docs").
#
# THE CONVENTION (also in docs/README.md, "Code blocks in these pages"):
# the info string after the opening fence decides what happens to a block.
# Every C++ block is compiled (never run) unless marked nocompile.
#
#   ```cpp            a block with an #include line is a complete
#                     translation unit; any other block is a fragment.
#   ```cpp tu         a complete translation unit, compiled as is: it
#                     includes what it uses.
#   ```cpp fragment   statements. Wrapped in a function body placed after
#                     tests/docs/prelude.hpp (<redis_ha.hpp>, <redis_ha/typed.hpp>,
#                     common Asio and std headers, std::chrono_literals), whose
#                     parameters provide the names a page uses without
#                     declaring them: cfg, redis, client, conn, sub, req,
#                     resp, r, ec, ioc, ex (see prelude.hpp for their types).
#                     A fragment that uses co_await is wrapped in a coroutine
#                     (asio::awaitable<void>). It may redeclare those names.
#   ```cpp decls      namespace-scope declarations (functions, structs,
#                     specializations), after the prelude. The fragments and
#                     decls of one page share one translation unit, in page
#                     order: a later fragment may use an earlier decls block.
#   ```cpp nocompile  shown, never compiled (say in the text why, e.g. the
#                     GCC 12 miscompilation example).
#
# Anything else (```sh, ```cmake, ```text, a bare ```) is ignored; a cpp
# block with another word after `cpp` fails the page's test (#error naming
# the line). Compiler errors point at the Markdown file and line (#line).
#
# redis_ha_doc_snippets(<markdown file> <output dir> <out var>)
#   Writes the generated sources into <output dir> (rewritten only when
#   their content changes) and sets <out var> to their list (empty when the
#   page has no C++ block).

function(redis_ha_doc_snippets md out_dir out_var)
  file(READ "${md}" text)
  # CMake lists split on ';' and treat brackets specially: hide them.
  string(REPLACE ";" "@RHA_SEMI@" text "${text}")
  string(REPLACE "[" "@RHA_LB@" text "${text}")
  string(REPLACE "]" "@RHA_RB@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")

  get_filename_component(stem "${md}" NAME_WE)
  set(page_tu "")      # fragments and decls
  set(sources "")
  set(in_block OFF)
  set(kind "")
  set(body "")
  set(start 0)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(NOT in_block)
      if(line MATCHES "^[ \t]*```(.*)$")
        string(STRIP "${CMAKE_MATCH_1}" info)
        set(in_block ON)
        set(body "")
        math(EXPR start "${n} + 1")
        if(info MATCHES "^(cpp|c\\+\\+)( |$)")
          string(REGEX REPLACE "^(cpp|c\\+\\+)[ ]*" "" kind "${info}")
          if(kind STREQUAL "")
            set(kind "auto")
          endif()
        else()
          set(kind "ignored")
        endif()
      endif()
      continue()
    endif()
    if(NOT line MATCHES "^[ \t]*```[ \t]*$")
      string(APPEND body "${line}\n")
      continue()
    endif()
    # End of a block.
    set(in_block OFF)
    string(REPLACE "@RHA_SEMI@" ";" body "${body}")
    string(REPLACE "@RHA_LB@" "[" body "${body}")
    string(REPLACE "@RHA_RB@" "]" body "${body}")
    set(where "#line ${start} \"${md}\"\n")
    if(kind STREQUAL "auto")
      if(body MATCHES "(^|\n)[ \t]*#[ \t]*include")
        set(kind "tu")
      else()
        set(kind "fragment")
      endif()
    endif()
    if(kind STREQUAL "ignored" OR kind STREQUAL "nocompile")
      continue()
    elseif(kind STREQUAL "tu")
      set(src "${out_dir}/${stem}_line${start}.cpp")
      _redis_ha_write_if_changed("${src}" "// Generated from ${md}:${start} (a complete translation unit).\n${where}${body}")
      list(APPEND sources "${src}")
    elseif(kind STREQUAL "decls")
      string(APPEND page_tu "\n${where}${body}")
    elseif(kind STREQUAL "fragment")
      set(ret "void")
      if(body MATCHES "co_await|co_return")
        set(ret "asio::awaitable<void>")
      endif()
      string(APPEND page_tu "\n[[maybe_unused]] ${ret} redis_ha_doc_fragment_line${start}(REDIS_HA_DOC_FRAGMENT_PARAMETERS) {\n{\n${where}${body}}\n}\n")
    else()
      string(APPEND page_tu "\n${where}#error \"unknown code block kind 'cpp ${kind}': use cpp, cpp tu, cpp fragment, cpp decls or cpp nocompile (tests/docs/snippets.cmake)\"\n")
    endif()
  endforeach()
  if(in_block)
    string(APPEND page_tu "\n#line ${start} \"${md}\"\n#error \"unterminated code block\"\n")
  endif()
  if(NOT page_tu STREQUAL "")
    set(src "${out_dir}/${stem}_fragments.cpp")
    _redis_ha_write_if_changed("${src}"
      "// Generated from ${md}: its `cpp fragment` and `cpp decls` blocks, in order.\n#include \"prelude.hpp\"\n${page_tu}")
    list(APPEND sources "${src}")
  endif()
  # Blocks that moved or went away leave no stale source behind.
  file(GLOB previous "${out_dir}/*.cpp")
  foreach(f IN LISTS previous)
    if(NOT f IN_LIST sources)
      file(REMOVE "${f}")
    endif()
  endforeach()
  set(${out_var} "${sources}" PARENT_SCOPE)
endfunction()

# Writes `content` to `file` unless it already holds exactly that (so that
# an unchanged page is not compiled again).
function(_redis_ha_write_if_changed file content)
  if(EXISTS "${file}")
    file(READ "${file}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${file}" "${content}")
endfunction()
