"""INFO sections with Redis 7.0's field names and order (Sentinel and exporters parse them)."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dragonfly_py import REDIS_VERSION
from dragonfly_py.server.latency import format_percentiles
from dragonfly_py.storage.memory import used_memory

if TYPE_CHECKING:
    from dragonfly_py.server.server import Server

Fields = list[tuple[str, object]]


def human_bytes(n: int) -> str:
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"


def server_section(server: Server) -> Fields:
    uptime = int(time.time() - server.started)
    uname = platform.uname()
    return [
        ("redis_version", REDIS_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", server.mode),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", 64),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", server.tcp_port),
        ("server_time_usec", time.time_ns() // 1000),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", server.config["hz"]),
        ("configured_hz", server.config["hz"]),
        ("lru_clock", int(time.time()) & ((1 << 24) - 1)),
        ("executable", os.path.abspath(sys.argv[0])),
        ("config_file", str(server.config.file or "")),
        ("io_threads_active", 0),
    ]


def clients_section(server: Server) -> Fields:
    return [
        ("connected_clients", sum(1 for c in server.clients.values() if c.kind != "replica")),
        ("cluster_connections", 0),
        ("maxclients", server.config["maxclients"]),
        ("client_recent_max_input_buffer", max((peak[0] for peak in server.recent_buffer_peaks), default=0)),
        ("client_recent_max_output_buffer", max((peak[1] for peak in server.recent_buffer_peaks), default=0)),
        (
            "blocked_clients",
            sum(1 for c in server.clients.values() if c.blocked is not None) + len(server.held_by_pause),
        ),
        ("tracking_clients", server.tracking.clients),
        ("clients_in_timeout_table", sum(1 for c in server.clients.values() if c.blocked is not None)),
    ]


def memory_section(server: Server) -> Fields:
    """Redis 7.0's fields in its order. Python has no allocator to ask: used_memory is the RSS, and
    the allocator fields read as Redis's do when built with libc malloc (mem_allocator:libc)."""
    rss = used_memory()
    server.peak_memory = max(server.peak_memory, rss)
    maxmemory = server.config["maxmemory"]
    startup = min(server.startup_memory, rss)
    backlog = server.primary.backlog.size if server.primary.backlog is not None else 0
    buffers = [(c.kind == "replica", c.conn.output_size()) for c in server.clients.values() if c.conn is not None]
    replica_buffers = sum(size for is_replica, size in buffers if is_replica)
    normal_buffers = sum(size for is_replica, size in buffers if not is_replica)
    overhead = min(rss, startup + backlog + replica_buffers + normal_buffers)
    dataset = rss - overhead
    system_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return [
        ("used_memory", rss),
        ("used_memory_human", human_bytes(rss)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", human_bytes(rss)),
        ("used_memory_peak", server.peak_memory),
        ("used_memory_peak_human", human_bytes(server.peak_memory)),
        ("used_memory_peak_perc", f"{100 * rss / server.peak_memory:.2f}%"),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{100 * dataset / max(1, rss - startup):.2f}%"),
        ("allocator_allocated", 0),
        ("allocator_active", 0),
        ("allocator_resident", 0),
        ("total_system_memory", system_memory),
        ("total_system_memory_human", human_bytes(system_memory)),
        ("used_memory_lua", 0),  # no scripting engine
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmemory),
        ("maxmemory_human", human_bytes(maxmemory)),
        ("maxmemory_policy", server.config["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"),  # used_memory is the RSS
        ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", backlog),
        ("mem_total_replication_buffers", backlog + replica_buffers),
        ("mem_clients_slaves", replica_buffers),
        ("mem_clients_normal", normal_buffers),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def persistence_section(server: Server) -> Fields:
    return [
        ("loading", int(server.loading)),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        *server.persistence.info_fields(),
        ("aof_enabled", 0),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
        *(server.persistence.loading_fields() if server.loading else ()),
    ]


def stats_section(server: Server) -> Fields:
    stats = server.stats
    ops_per_sec, input_kbps, output_kbps = server.instantaneous_rates()
    return [
        ("total_connections_received", stats.connections_received),
        ("total_commands_processed", server.commands_processed()),
        ("instantaneous_ops_per_sec", ops_per_sec),
        ("total_net_input_bytes", stats.net_input_bytes),
        ("total_net_output_bytes", stats.net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", server.primary.net_output),
        ("instantaneous_input_kbps", f"{input_kbps:.2f}"),
        ("instantaneous_output_kbps", f"{output_kbps:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", stats.rejected_connections),
        ("sync_full", server.primary.sync_full),
        ("sync_partial_ok", server.primary.sync_partial_ok),
        ("sync_partial_err", server.primary.sync_partial_err),
        ("expired_keys", stats.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", 0),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", server.keyspace.hits),
        ("keyspace_misses", server.keyspace.misses),
        ("pubsub_channels", len(server.channels)),
        ("pubsub_patterns", len(server.patterns)),
        ("pubsubshard_channels", 0),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        *server.tracking.info_stats(),
        ("unexpected_error_replies", 0),
        ("total_error_replies", sum(server.error_counts.values())),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", stats.reads_processed),
        ("total_writes_processed", stats.writes_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),  # replies are joined per read, there is no reply buffer to resize
        ("reply_buffer_expands", 0),
        ("client_output_buffer_limit_disconnections", stats.client_output_buffer_limit_disconnections),
    ]


def replication_section(server: Server) -> Fields:
    return server.replication_info()


def cpu_section(server: Server) -> Fields:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", f"{usage.ru_stime:.6f}"),
        ("used_cpu_user", f"{usage.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{usage.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{usage.ru_utime:.6f}"),
    ]


def modules_section(server: Server) -> Fields:
    return []


def commandstats_section(server: Server) -> Fields:
    server.fold_durations()
    out: Fields = []
    for entry in server.command_entries():
        if entry.calls or entry.rejected_calls or entry.failed_calls:
            usec = entry.nanoseconds // 1000
            per_call = usec / entry.calls if entry.calls else 0
            out.append(
                (
                    f"cmdstat_{entry.full_name}",
                    f"calls={entry.calls},usec={usec},usec_per_call={per_call:.2f},"
                    f"rejected_calls={entry.rejected_calls},failed_calls={entry.failed_calls}",
                )
            )
    return out


def errorstats_section(server: Server) -> Fields:
    return [(f"errorstat_{prefix}", f"count={count}") for prefix, count in server.error_counts.items()]


def latencystats_section(server: Server) -> Fields:
    percents = server.config["latency-tracking-info-percentiles"]
    server.fold_durations()
    return [
        (f"latency_percentiles_usec_{entry.full_name}", format_percentiles(entry.latency, percents))
        for entry in server.command_entries()
        if entry.latency is not None
    ]


def cluster_section(server: Server) -> Fields:
    return [("cluster_enabled", 0)]


def keyspace_section(server: Server) -> Fields:
    out: Fields = []
    now = server.keyspace.now
    for db in server.keyspace.dbs:
        if db.data:
            ttls = [when - now for when in db.expires.values() if when > now]
            avg = sum(ttls) // len(ttls) if ttls else 0
            out.append((f"db{db.index}", f"keys={len(db.data)},expires={len(db.expires)},avg_ttl={avg}"))
    return out


SECTIONS: dict[str, Callable[[Server], Fields]] = {
    "server": server_section,
    "clients": clients_section,
    "memory": memory_section,
    "persistence": persistence_section,
    "stats": stats_section,
    "replication": replication_section,
    "cpu": cpu_section,
    "modules": modules_section,
    "commandstats": commandstats_section,
    "errorstats": errorstats_section,
    "latencystats": latencystats_section,
    "cluster": cluster_section,
    "keyspace": keyspace_section,
}
DEFAULT_SECTIONS = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
]
EXTRA_IN_ALL = ["commandstats", "latencystats"]


def select_sections(
    requested: list[str],
    sections: dict[str, Callable[[Server], Fields]] = SECTIONS,
    default: list[str] = DEFAULT_SECTIONS,
    extra_in_all: list[str] = EXTRA_IN_ALL,
) -> list[str]:
    """Which sections INFO shows for its arguments (default, all, everything, names)."""
    if not requested:
        return default
    chosen: set[str] = set()
    for name in (r.lower() for r in requested):
        if name == "default":
            chosen.update(default)
        elif name in ("all", "everything"):
            chosen.update(default + extra_in_all)
        elif name in sections:
            chosen.add(name)
    return [name for name in sections if name in chosen]


def render(
    server: Server,
    requested: list[str],
    sections: dict[str, Callable[[Server], Fields]] = SECTIONS,
    default: list[str] = DEFAULT_SECTIONS,
    extra_in_all: list[str] = EXTRA_IN_ALL,
) -> str:
    """INFO's text; a sentinel passes its own section table (all of it is its default)."""
    parts = []
    for name in select_sections(requested, sections, default, extra_in_all):
        lines = [f"# {name.capitalize() if name != 'cpu' else 'CPU'}"]
        lines += [f"{key}:{value}" for key, value in sections[name](server)]
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts)
