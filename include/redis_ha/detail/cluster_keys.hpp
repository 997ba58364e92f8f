#ifndef REDIS_HA_DETAIL_CLUSTER_KEYS_HPP
#define REDIS_HA_DETAIL_CLUSTER_KEYS_HPP

/// @file
/// Where a request goes in a Redis Cluster (sans-I/O): the commands of a
/// request (read back from its own RESP bytes), the keys of each command
/// (COMMAND's first/last/step, and parsing for the "movable" ones), the
/// routing of keyless commands, and the one slot of a request, refused
/// locally (`error::cross_slot`) when its keys span slots.
///
/// Rules (docs/cluster.md):
/// - a command with keys goes to the master of its keys' slot; all keys of
///   a request must hash to one slot (use hash tags `{...}`);
/// - keyless commands in a request with keys ride along (PING, MULTI/EXEC,
///   WAIT, ...), except fan-out and refused ones (`unroutable_command`);
/// - a request of keyless commands goes to any master (`route::any`), or to
///   every master when it holds a fan-out command (FLUSHALL, FLUSHDB, KEYS,
///   DBSIZE, SCRIPT LOAD/FLUSH, FUNCTION LOAD/DELETE/FLUSH/RESTORE,
///   CONFIG SET/RESETSTAT);
/// - SCAN, SELECT, SWAPDB, READONLY, READWRITE, ASKING, MONITOR are refused:
///   they do not mean the same on one node of many;
/// - an unknown command's first argument is taken as its key (the shape of
///   nearly all module commands); without argument it goes to any master.

#include <redis_ha/command_traits.hpp>
#include <redis_ha/detail/cluster_key_table.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/error.hpp>

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace redis_ha {
namespace detail {

/// The arguments of one command (views into the request's bytes).
using argv_view = std::vector<std::string_view>;

/// Reads the commands back from RESP bytes made by `request::push`
/// (`*<n>` then `n` bulk strings per command). Returns false on bytes of
/// another shape (they never come from `request`).
inline bool parse_commands(std::string_view p, std::vector<argv_view>& out) {
  auto number = [&](char type, long long& n) {
    if (p.empty() || p[0] != type) return false;
    const auto end = p.find("\r\n");
    if (end == std::string_view::npos) return false;
    auto r = std::from_chars(p.data() + 1, p.data() + end, n);
    if (r.ec != std::errc{} || r.ptr != p.data() + end || n < 0) return false;
    p.remove_prefix(end + 2);
    return true;
  };
  while (!p.empty()) {
    long long argc = 0;
    if (!number('*', argc)) return false;
    argv_view argv;
    for (long long i = 0; i < argc; ++i) {
      long long len = 0;
      if (!number('$', len) || p.size() < static_cast<std::size_t>(len) + 2) return false;
      argv.push_back(p.substr(0, static_cast<std::size_t>(len)));
      p.remove_prefix(static_cast<std::size_t>(len) + 2);
    }
    out.push_back(std::move(argv));
  }
  return true;
}

/// ASCII case-insensitive equality.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

/// The key spec of `name` (or `name|sub`), or nullptr.
inline const key_spec* find_key_spec(std::string_view name, std::string_view sub) noexcept {
  std::size_t lo = 0, hi = sizeof(key_table) / sizeof(key_table[0]);
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const int c = compare_command_key(key_table[mid].name, name, sub);
    if (c == 0) return &key_table[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return nullptr;
}

/// How a keyless command is routed.
enum class keyless_route {
  any,          ///< any master (or, in a request with keys, the keys' slot)
  all_masters,  ///< every master (fan-out)
  refused,      ///< not supported in cluster mode
};

/// The routing of a keyless command (`argv[0]`, and `argv[1]` for containers).
inline keyless_route keyless_route_of(const argv_view& argv) {
  static constexpr std::string_view fanout[] = {"flushall",        "flushdb",         "keys",
                                                "dbsize",          "script|load",     "script|flush",
                                                "function|load",   "function|delete", "function|flush",
                                                "function|restore", "config|set",     "config|resetstat"};
  static constexpr std::string_view refused[] = {"scan",     "select", "swapdb", "readonly",
                                                 "readwrite", "asking", "monitor"};
  const std::string_view name = argv.empty() ? std::string_view{} : argv[0];
  const std::string_view sub = argv.size() > 1 ? argv[1] : std::string_view{};
  for (auto f : fanout) {
    const auto bar = f.find('|');
    if (bar == std::string_view::npos ? iequals(f, name)
                                      : (iequals(f.substr(0, bar), name) && iequals(f.substr(bar + 1), sub)))
      return keyless_route::all_masters;
  }
  for (auto r : refused)
    if (iequals(r, name)) return keyless_route::refused;
  return keyless_route::any;
}

/// Parses a non-negative count argument.
inline bool parse_count(std::string_view s, std::size_t& n) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

/// Appends the keys of one command to `keys`. Returns false when the
/// command takes no key (as called: e.g. `EVAL s 0`), true otherwise.
/// Malformed arguments of a movable-keys command (a bad `numkeys`) yield
/// the keys that can be found: the server will answer the error.
inline bool command_keys(const argv_view& argv, std::vector<std::string_view>& keys) {
  if (argv.empty()) return false;
  const std::size_t before = keys.size();
  const std::string_view name = argv[0];
  const key_spec* spec = find_key_spec(name, {});
  if (!spec && argv.size() > 1) spec = find_key_spec(name, argv[1]);  // a subcommand with keys
  if (!spec) {
    if (find_command(name, {}) != nullptr) return false;  // a known keyless command
    if (argv.size() > 1) keys.push_back(argv[1]);         // unknown: its first argument is the key
    return keys.size() > before;
  }
  const std::size_t n = argv.size();
  auto take_range = [&](std::size_t from, std::size_t count) {
    for (std::size_t i = 0; i < count && from + i < n; ++i) keys.push_back(argv[from + i]);
  };
  auto numkeys_at = [&](std::size_t at) {  // numkeys at argv[at], keys after it
    std::size_t k = 0;
    if (at < n && parse_count(argv[at], k)) take_range(at + 1, k);
  };
  auto option_key = [&](std::size_t from, std::initializer_list<std::string_view> opts) {
    for (std::size_t i = from; i + 1 < n; ++i)
      for (auto o : opts)
        if (iequals(argv[i], o)) keys.push_back(argv[i + 1]);
  };
  if (!spec->movable) {
    if (spec->first <= 0) return false;
    const auto first = static_cast<std::size_t>(spec->first);
    const long long last = spec->last >= 0 ? spec->last : static_cast<long long>(n) + spec->last;
    const auto step = static_cast<std::size_t>(spec->step > 0 ? spec->step : 1);
    for (std::size_t i = first; static_cast<long long>(i) <= last && i < n; i += step) keys.push_back(argv[i]);
    return keys.size() > before;
  }
  const std::string_view s = spec->name;
  if (s == "eval" || s == "eval_ro" || s == "evalsha" || s == "evalsha_ro" || s == "fcall" || s == "fcall_ro") {
    numkeys_at(2);
  } else if (s == "zunion" || s == "zinter" || s == "zdiff" || s == "zintercard" || s == "sintercard" ||
             s == "lmpop" || s == "zmpop") {
    numkeys_at(1);
  } else if (s == "blmpop" || s == "bzmpop") {
    numkeys_at(2);
  } else if (s == "zunionstore" || s == "zinterstore" || s == "zdiffstore") {
    if (n > 1) keys.push_back(argv[1]);
    numkeys_at(2);
  } else if (s == "xread" || s == "xreadgroup") {
    for (std::size_t i = 1; i < n; ++i) {
      if (!iequals(argv[i], "streams")) continue;
      const std::size_t rest = n - i - 1;
      take_range(i + 1, rest / 2);
      break;
    }
  } else if (s == "sort" || s == "sort_ro") {
    if (n > 1) keys.push_back(argv[1]);
    if (s == "sort") option_key(2, {"store"});
  } else if (s == "georadius" || s == "georadiusbymember") {
    if (n > 1) keys.push_back(argv[1]);
    option_key(2, {"store", "storedist"});
  } else if (s == "migrate") {
    if (n > 3 && !argv[3].empty()) keys.push_back(argv[3]);
    for (std::size_t i = 6; i < n; ++i)
      if (iequals(argv[i], "keys")) {
        take_range(i + 1, n - i - 1);
        break;
      }
  } else if (spec->first > 0) {  // a movable command this version does not know: its fixed key
    if (static_cast<std::size_t>(spec->first) < n) keys.push_back(argv[static_cast<std::size_t>(spec->first)]);
  }
  return keys.size() > before;
}

/// Where a request goes.
struct cluster_route {
  enum class kind {
    slot,         ///< the master of `slot`
    any,          ///< any master
    all_masters,  ///< every master; the replies are merged
    refused,      ///< `ec` says why; nothing is sent
  };
  kind where = kind::any;
  int slot = -1;
  std::error_code ec;
  std::string detail;              ///< for `refused`: which command or keys
  std::vector<bool> idempotent;    ///< per command: harmless to run again
  std::vector<bool> keyed;         ///< per command: it has keys
  std::vector<std::string> names;  ///< per command: its lower-case name (fan-out merging)
};

/// Routes the commands of a request (its RESP bytes).
inline cluster_route route_commands(std::string_view payload) {
  cluster_route r;
  std::vector<argv_view> cmds;
  if (!parse_commands(payload, cmds) || cmds.empty()) {
    r.where = cluster_route::kind::refused;
    r.ec = error::empty_request;
    return r;
  }
  bool fanout = false;
  std::vector<std::string_view> keys;
  std::string_view first_key;
  std::string_view fanout_name;
  for (const auto& argv : cmds) {
    std::string lower;
    for (char c : argv.empty() ? std::string_view{} : argv[0]) lower.push_back(ascii_lower(c));
    r.names.push_back(lower);
    const auto flags = command_traits(argv.empty() ? std::string_view{} : argv[0],
                                      argv.size() > 1 ? argv[1] : std::string_view{});
    r.idempotent.push_back(has(flags, command_flags::idempotent));
    keys.clear();
    const bool keyed = command_keys(argv, keys);
    r.keyed.push_back(keyed);
    if (!keyed) {
      const auto k = keyless_route_of(argv);
      if (k == keyless_route::refused) {
        r.where = cluster_route::kind::refused;
        r.ec = error::unroutable_command;
        r.detail = std::string(argv[0]) + " is not supported by the cluster client";
        return r;
      }
      if (k == keyless_route::all_masters) {
        fanout = true;
        fanout_name = argv[0];
      }
      continue;
    }
    for (auto k : keys) {
      const int s = key_slot(k);
      if (r.slot < 0) {
        r.slot = s;
        first_key = k;
      } else if (s != r.slot) {
        r.where = cluster_route::kind::refused;
        r.ec = error::cross_slot;
        r.detail = "keys '" + std::string(first_key) + "' (slot " + std::to_string(r.slot) + ") and '" +
                   std::string(k) + "' (slot " + std::to_string(s) +
                   ") are in different slots: use a hash tag such as {user1}";
        return r;
      }
    }
  }
  if (r.slot >= 0 && fanout) {
    r.where = cluster_route::kind::refused;
    r.ec = error::unroutable_command;
    r.detail = std::string(fanout_name) + " runs on every master and cannot share a request with keyed commands";
    return r;
  }
  r.where = r.slot >= 0 ? cluster_route::kind::slot : fanout ? cluster_route::kind::all_masters : cluster_route::kind::any;
  return r;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_KEYS_HPP
