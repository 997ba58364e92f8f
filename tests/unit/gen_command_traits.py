#!/usr/bin/env python3
"""Generate the command table of include/redis_ha/command_traits.hpp.

Connects to a *running* redis-server 7.x (this script starts nothing), runs
`COMMAND` over a plain socket (RESP2, no third-party modules), and emits one
row per command and per subcommand (`client|setname`, `config|set`, ...) with
the flags of `redis_ha::command_flags`.

Where each flag comes from:

  write             Redis's `write` flag, plus MASTER_ONLY below.
  readonly          Redis's `readonly` flag.
  idempotent        every `readonly` command, plus the hand-maintained
                    IDEMPOTENT list below. `COMMAND` does not say whether a
                    command may be resent: its flags describe routing and
                    scheduling, its `nondeterministic_output` tips only
                    describe replies, and ACL categories only group commands
                    (everything in @read is idempotent, @write says nothing).
  blocking          Redis's `blocking` flag (XREAD/XREADGROUP only block with
                    BLOCK: "may block"), plus EXTRA_BLOCKING below.
  pubsub            SUBSCRIBE_FAMILY below: the commands that switch the
                    connection into or out of subscriber mode. Redis's own
                    `pubsub` flag also covers PUBLISH and PUBSUB, which are
                    ordinary request/reply commands.
  admin, noscript   Redis's flags of the same name.
  connection_state  CONNECTION_STATE below.

Every command that Redis does not flag `readonly` must appear in IDEMPOTENT
or NOT_IDEMPOTENT: when a new Redis version adds commands, the script fails
and names them, so that somebody decides (or pass --allow-unclassified to
treat them as not idempotent).

Usage (against a throw-away server):

  redis-server --port 6390 --save '' --bind 127.0.0.1 --daemonize yes
  python3 tests/unit/gen_command_traits.py --port 6390 \\
      --update include/redis_ha/command_traits.hpp
  redis-cli -p 6390 shutdown nosave

Without --update the table is printed; --check FILE exits with status 1 when
FILE's table differs from what the server yields.
"""

import argparse
import re
import socket
import sys

# --------------------------------------------------------------------------
# Idempotency.
#
# A command is idempotent when running it a second time with the same
# arguments -- because the connection was lost and we do not know whether the
# first run happened -- leaves the same state as running it once, assuming no
# other client wrote in between, and its reply still tells the truth about
# the outcome. Concretely:
#
#  1. Reads (Redis flag `readonly`) are idempotent, including those with
#     nondeterministic output (SRANDMEMBER, SCAN, TTL): a second run changes
#     nothing and its answer is as valid as the first one.
#  2. Writes with an absolute effect ("make it so": SET, DEL, HSET, SADD,
#     SREM, ZADD, EXPIREAT, PERSIST, ...) are idempotent. Their reply may
#     differ in counts: a resent DEL/SADD/HSET reports 0 instead of 1.
#  3. Relative TTLs are idempotent (EXPIRE k 60, PEXPIRE, SETEX, PSETEX,
#     GETEX, SET ... EX, CLIENT PAUSE): the TTL counts from the moment the
#     server executes the command, a resend only moves that moment by the
#     retry delay -- indistinguishable from network latency -- and the final
#     state is the one asked for ("expires 60 s after the write").
#  4. Not idempotent: effects relative to the current value (INCR*, DECR*,
#     APPEND, LPUSH/RPUSH, LINSERT, XADD, ZINCRBY, BITFIELD), consuming
#     commands (LPOP, SPOP, LMOVE, B*POP, GETDEL, XREADGROUP, XCLAIM) and
#     commands that return the value they overwrite (GETSET, SETBIT): a
#     resend repeats the effect or loses the returned data.
#  5. Not idempotent: conditional writes whose precondition the first run
#     makes false (SETNX, HSETNX, MSETNX, RENAME, RENAMENX, COPY, MOVE,
#     SMOVE, RESTORE, XGROUP CREATE, FUNCTION LOAD, ...). Their effect would
#     not be repeated, but the resend replies "not done" (0, nil or an error)
#     for a write that was done -- and callers branch on exactly that reply
#     (SETNX as a lock). Counts (rule 2) are informational; this reply is the
#     outcome.
#  6. Arguments are not seen. A command is listed as idempotent only if its
#     common forms are: LREM (count != 0), LTRIM (start > 0) and
#     ZREMRANGEBYRANK shift on every run, so they are not listed. *STORE
#     commands are idempotent when the destination is not also a source;
#     ZUNIONSTORE/ZINTERSTORE (SUM) and BITOP (XOR/NOT) are commonly used to
#     accumulate into a source, so they are not listed. Exceptions by design:
#     SET (SET ... NX / GET behave like SETNX / GETSET) and ZADD (ZADD ...
#     INCR behaves like ZINCRBY) are listed for their plain form; a caller
#     using those options must not rely on automatic resending.
#  7. Scripts (EVAL, EVALSHA, FCALL) are not idempotent: they may do
#     anything. EVAL_RO & co. are `readonly` (rule 1).
#  8. Connection, server and admin commands are idempotent when they set an
#     absolute state or only report (PING, INFO, ROLE, SELECT, AUTH, HELLO,
#     CLIENT SETNAME, CONFIG GET/SET, SCRIPT LOAD, SUBSCRIBE); not when they
#     act once (PUBLISH delivers again, CLIENT KILL, SCRIPT KILL, BGSAVE,
#     SHUTDOWN, FAILOVER, CLUSTER changes). MULTI/EXEC/DISCARD/WATCH are
#     idempotent themselves: a resend replays the whole request on a new
#     connection, and the commands queued between MULTI and EXEC decide.
#  9. A bare container command (CLIENT, CONFIG, ... without subcommand) only
#     yields an arity error (COMMAND alone lists commands): idempotent.
# --------------------------------------------------------------------------

IDEMPOTENT = {
    # rule 2: absolute writes
    "set", "mset", "setrange", "del", "unlink", "persist",
    "expireat", "pexpireat", "hset", "hmset", "hdel", "sadd", "srem", "zadd",
    "zrem", "zremrangebylex", "zremrangebyscore", "lset", "pfadd", "geoadd",
    "xack", "xdel", "xtrim", "xsetid", "flushall", "flushdb",
    "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|destroy",
    "xgroup|setid", "function|flush",
    # rule 2: result depends only on the sources (rule 6 for dest == source);
    # PFMERGE and SUNIONSTORE/SINTERSTORE are idempotent even then
    "pfmerge", "sunionstore", "sinterstore", "sdiffstore", "zdiffstore",
    "zrangestore", "sort", "georadius", "georadiusbymember", "geosearchstore",
    # rule 3: relative TTLs
    "expire", "pexpire", "setex", "psetex", "getex", "client|pause",
    # rule 8: connection state set absolutely
    "auth", "hello", "select", "readonly", "readwrite", "asking", "reset",
    "quit", "client|setname", "client|reply", "client|tracking",
    "client|caching", "client|no-evict", "client|unpause",
    "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
    "sunsubscribe", "monitor",
    # rule 8: transactions (the queued commands decide)
    "multi", "exec", "discard", "watch", "unwatch",
    # rule 8: reports and introspection
    "ping", "echo", "info", "role", "time", "lastsave", "wait",
    "client|getname", "client|getredir", "client|help", "client|id",
    "client|info", "client|list", "client|trackinginfo",
    "command|count", "command|docs", "command|getkeys",
    "command|getkeysandflags", "command|help", "command|info", "command|list",
    "config|get", "config|help", "pubsub|channels", "pubsub|help",
    "pubsub|numpat", "pubsub|numsub", "pubsub|shardchannels",
    "pubsub|shardnumsub", "script|exists", "script|help", "function|dump",
    "function|help", "function|list", "function|stats", "object|help",
    "xgroup|help", "xinfo|help", "memory|doctor", "memory|help",
    "memory|malloc-stats", "memory|stats", "module|help", "module|list",
    "latency|doctor", "latency|graph", "latency|help", "latency|histogram",
    "latency|history", "latency|latest", "slowlog|get", "slowlog|help",
    "slowlog|len", "acl|cat", "acl|dryrun", "acl|genpass", "acl|getuser",
    "acl|help", "acl|list", "acl|log", "acl|users", "acl|whoami",
    "cluster|countkeysinslot", "cluster|count-failure-reports",
    "cluster|getkeysinslot", "cluster|help", "cluster|info", "cluster|keyslot",
    "cluster|links", "cluster|myid", "cluster|nodes", "cluster|replicas",
    "cluster|shards", "cluster|slaves", "cluster|slots", "pfselftest",
    # rule 8: server state set absolutely
    "config|set", "config|rewrite", "config|resetstat", "script|load",
    "script|flush", "memory|purge", "latency|reset", "slowlog|reset",
    "acl|deluser", "acl|load", "acl|save", "cluster|saveconfig", "save",
    "replicaof", "slaveof",
    # rule 9: bare containers
    "acl", "client", "cluster", "command", "config", "function", "latency",
    "memory", "module", "object", "pubsub", "script", "slowlog", "xgroup",
    "xinfo",
}

NOT_IDEMPOTENT = {
    # rule 4: relative to the current value
    "append", "incr", "incrby", "incrbyfloat", "decr", "decrby", "hincrby",
    "hincrbyfloat", "zincrby", "bitfield", "lpush", "rpush", "lpushx",
    "rpushx", "linsert", "xadd", "swapdb",
    # rule 4: consuming
    "lpop", "rpop", "blpop", "brpop", "lmove", "blmove", "rpoplpush",
    "brpoplpush", "lmpop", "blmpop", "spop", "zpopmin", "zpopmax", "bzpopmin",
    "bzpopmax", "zmpop", "bzmpop", "getdel", "xreadgroup", "xclaim",
    "xautoclaim",
    # rule 4: returns the overwritten value (SETBIT: the previous bit)
    "getset", "setbit",
    # rule 5: conditional, the resend reports "not done"
    "setnx", "hsetnx", "msetnx", "rename", "renamenx", "copy", "move",
    "smove", "restore", "restore-asking", "migrate", "xgroup|create",
    "function|load", "function|restore", "function|delete", "module|load",
    "module|loadex", "module|unload",
    # rule 6: position-relative or accumulating forms are common
    "lrem", "ltrim", "zremrangebyrank", "zunionstore", "zinterstore", "bitop",
    # rule 7: scripts
    "eval", "evalsha", "fcall",
    # rule 8: act once
    "publish", "spublish", "client|kill", "client|unblock", "script|kill",
    "function|kill", "script|debug", "bgsave", "bgrewriteaof", "shutdown",
    "failover", "debug", "pfdebug", "psync", "sync", "replconf",
    "acl|setuser",  # "(selector)" rules are appended again on every run
    "cluster|addslots", "cluster|addslotsrange", "cluster|bumpepoch",
    "cluster|delslots", "cluster|delslotsrange", "cluster|failover",
    "cluster|flushslots", "cluster|forget", "cluster|meet",
    "cluster|replicate", "cluster|reset", "cluster|set-config-epoch",
    "cluster|setslot",
}

# Commands without Redis's `write` flag that must still run on the master.
MASTER_ONLY = {
    "eval", "evalsha", "fcall",  # a script may write (EVAL_RO & co. are readonly)
    "publish", "spublish",  # a replica does not forward messages to the master
    "wait",  # replicas refuse WAIT
}

# Commands without Redis's `blocking` flag that block the connection.
EXTRA_BLOCKING = {
    "wait",  # until the replicas acknowledge or the timeout expires
}

# Commands that switch the connection into or out of subscriber mode.
SUBSCRIBE_FAMILY = {
    "subscribe", "psubscribe", "ssubscribe",
    "unsubscribe", "punsubscribe", "sunsubscribe",
}

# Commands that change server-side connection state a reconnect loses.
CONNECTION_STATE = SUBSCRIBE_FAMILY | {
    "auth", "hello", "select", "readonly", "readwrite", "asking", "reset",
    "quit", "monitor", "client|setname", "client|reply", "client|tracking",
    "client|caching", "client|no-evict", "script|debug",
}

# C++ enumerator of each flag, in output order.
FLAG_ORDER = ["write", "readonly", "idempotent", "blocking", "pubsub", "admin",
              "noscript", "connection_state"]

BEGIN_MARKER = "// BEGIN GENERATED COMMAND TABLE"
END_MARKER = "// END GENERATED COMMAND TABLE"


# --------------------------------------------------------------------------
# Minimal RESP2 client.
# --------------------------------------------------------------------------

class RespError(Exception):
    """An error reply from the server."""


class Resp:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def command(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode() if isinstance(arg, str) else arg
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        reply = self._read()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line, self.buf = self.buf[:end], self.buf[end + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ValueError("unexpected RESP type byte %r" % kind)


# --------------------------------------------------------------------------
# Table.
# --------------------------------------------------------------------------

def server_version(conn):
    info = conn.command("INFO", "server")
    match = re.search(r"^redis_version:(\S+)", info, re.M)
    if not match:
        sys.exit("error: INFO server has no redis_version")
    return match.group(1)


def collect(command_reply):
    """{name: (redis_flags:set, has_subcommands:bool)} incl. subcommands."""
    rows = {}

    def walk(entry):
        # [name, arity, flags, first, last, step, acl, tips, keyspecs, subcommands]
        name = entry[0].lower()
        subs = entry[9] if len(entry) > 9 and entry[9] else []
        rows[name] = (set(entry[2]), bool(subs))
        for sub in subs:
            walk(sub)

    for entry in command_reply:
        walk(entry)
    return rows


def classify(rows, allow_unclassified):
    problems = []
    for listed in (IDEMPOTENT, NOT_IDEMPOTENT, MASTER_ONLY, EXTRA_BLOCKING, CONNECTION_STATE):
        for name in sorted(listed - rows.keys()):
            problems.append("listed command %r is unknown to this server" % name)
    for name in sorted(IDEMPOTENT & NOT_IDEMPOTENT):
        problems.append("%r is listed both as idempotent and as not idempotent" % name)
    for name in sorted(SUBSCRIBE_FAMILY):
        if name in rows and "pubsub" not in rows[name][0]:
            problems.append("%r is not a pub/sub command on this server" % name)

    table = []
    for name in sorted(rows):
        redis_flags, container = rows[name]
        flags = set()
        if "write" in redis_flags or name in MASTER_ONLY:
            flags.add("write")
        if "readonly" in redis_flags:
            flags.add("readonly")
            if name in IDEMPOTENT or name in NOT_IDEMPOTENT:
                problems.append("%r is readonly (always idempotent): drop it from the lists" % name)
            flags.add("idempotent")
        elif name in IDEMPOTENT:
            flags.add("idempotent")
        elif name not in NOT_IDEMPOTENT:
            message = "%r (flags: %s) is neither in IDEMPOTENT nor in NOT_IDEMPOTENT" % (
                name, " ".join(sorted(redis_flags)) or "none")
            if allow_unclassified:
                print("warning: " + message + ": not idempotent", file=sys.stderr)
            else:
                problems.append(message)
        if "blocking" in redis_flags or name in EXTRA_BLOCKING:
            flags.add("blocking")
        if name in SUBSCRIBE_FAMILY:
            flags.add("pubsub")
        for same in ("admin", "noscript"):
            if same in redis_flags:
                flags.add(same)
        if name in CONNECTION_STATE:
            flags.add("connection_state")
        if "write" in flags and "readonly" in flags:
            problems.append("%r would be both write and readonly" % name)
        table.append((name, container, flags))

    if problems:
        sys.exit("error:\n  " + "\n  ".join(problems))
    return table


def render(table, version):
    commands = sum(1 for name, _, _ in table if "|" not in name)
    subcommands = len(table) - commands
    width = max(len(name) for name, _, _ in table) + 4
    lines = [
        BEGIN_MARKER + " -- do not edit by hand.",
        "// Source: COMMAND of Redis %s: %d commands + %d subcommands = %d rows."
        % (version, commands, subcommands, len(table)),
        "// Regenerate against a running redis-server 7.x (idempotency and overrides",
        "// are hand-maintained in the script, with the reason for each entry):",
        "//   python3 tests/unit/gen_command_traits.py --port <port> "
        "--update include/redis_ha/command_traits.hpp",
        "/// The command table, sorted by name (byte order of the lower-case names).",
        "inline constexpr command_entry command_table[] = {",
        "    // name, flags, container",
    ]
    for name, container, flags in table:
        expr = " | ".join("cf::" + f for f in FLAG_ORDER if f in flags) or "cf::none"
        key = '{"%s",' % name
        lines.append("    %s%s, %s}," % (key.ljust(width), expr, "true" if container else "false"))
    lines.append("};")
    lines.append(END_MARKER)
    return "\n".join(lines) + "\n"


def splice(text, block, path):
    begin = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER)
    if begin < 0 or end < begin:
        sys.exit("error: %s has no %s ... %s block" % (path, BEGIN_MARKER, END_MARKER))
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end + 1
    return text[:begin] + block + text[line_end:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True,
                        help="port of a running redis-server 7.x")
    parser.add_argument("--timeout", type=float, default=10.0)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--update", metavar="HEADER",
                        help="replace the generated block of HEADER in place")
    action.add_argument("--check", metavar="HEADER",
                        help="exit 1 when the generated block of HEADER is out of date")
    parser.add_argument("--allow-unclassified", action="store_true",
                        help="treat commands missing from both idempotency lists "
                             "as not idempotent instead of failing")
    args = parser.parse_args()

    try:
        conn = Resp(args.host, args.port, args.timeout)
    except OSError as e:
        sys.exit("error: cannot connect to %s:%d: %s" % (args.host, args.port, e))
    try:
        version = server_version(conn)
        if int(version.split(".")[0]) < 7:
            sys.exit("error: Redis %s: COMMAND reports subcommands since 7.0" % version)
        rows = collect(conn.command("COMMAND"))
    finally:
        conn.close()

    table = classify(rows, args.allow_unclassified)
    block = render(table, version)
    print("%d rows from Redis %s" % (len(table), version), file=sys.stderr)

    if args.update or args.check:
        path = args.update or args.check
        with open(path, encoding="utf-8") as f:
            text = f.read()
        updated = splice(text, block, path)
        if args.check:
            if updated != text:
                sys.exit("%s: generated command table is out of date" % path)
            return
        if updated != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(updated)
            print("updated " + path, file=sys.stderr)
    else:
        sys.stdout.write(block)


if __name__ == "__main__":
    main()
