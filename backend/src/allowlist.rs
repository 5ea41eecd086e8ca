//! Which commands a learner may run. One table feeds both layers of
//! defence: the sandbox's ACL (`-@all +…`, an allowlist, because module
//! commands carry no ACL categories and a deny-list leaks them) and the
//! gateway's policy, which refuses the rest with a sentence saying why.

/// How much of a command is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The whole command.
    Open,
    /// Only these subcommands (lowercase).
    Subcommands(&'static [&'static str]),
}

use Access::{Open, Subcommands};

/// Everything a learner may run, by lowercase name. Commands missing from
/// the running engine (FT.* on a plain Redis 7) are dropped at start-up,
/// because an unknown name in an ACL rule stops Redis from starting.
#[rustfmt::skip]
pub const ALLOWED: &[(&str, Access)] = &[
    // strings
    ("get", Open), ("set", Open), ("setnx", Open), ("setex", Open), ("psetex", Open),
    ("getset", Open), ("getdel", Open), ("getex", Open), ("mget", Open), ("mset", Open),
    ("msetnx", Open), ("append", Open), ("strlen", Open), ("incr", Open), ("incrby", Open),
    ("incrbyfloat", Open), ("decr", Open), ("decrby", Open), ("setrange", Open),
    ("getrange", Open), ("substr", Open), ("lcs", Open),
    // keyspace
    ("del", Open), ("unlink", Open), ("exists", Open), ("expire", Open), ("pexpire", Open),
    ("expireat", Open), ("pexpireat", Open), ("expiretime", Open), ("pexpiretime", Open),
    ("ttl", Open), ("pttl", Open), ("persist", Open), ("type", Open), ("rename", Open),
    ("renamenx", Open), ("keys", Open), ("scan", Open), ("randomkey", Open), ("touch", Open),
    ("copy", Open), ("sort", Open), ("sort_ro", Open), ("dbsize", Open), ("flushdb", Open),
    ("flushall", Open), ("select", Open), ("swapdb", Open), ("move", Open),
    ("object", Subcommands(&["encoding", "freq", "idletime", "refcount", "help"])),
    ("memory", Subcommands(&["usage", "stats", "doctor", "help"])),
    // hashes
    ("hset", Open), ("hsetnx", Open), ("hget", Open), ("hmset", Open), ("hmget", Open),
    ("hgetall", Open), ("hdel", Open), ("hlen", Open), ("hexists", Open), ("hkeys", Open),
    ("hvals", Open), ("hincrby", Open), ("hincrbyfloat", Open), ("hstrlen", Open),
    ("hscan", Open), ("hrandfield", Open), ("hexpire", Open), ("hpexpire", Open),
    ("hexpireat", Open), ("hpexpireat", Open), ("httl", Open), ("hpttl", Open),
    ("hexpiretime", Open), ("hpexpiretime", Open), ("hpersist", Open), ("hgetdel", Open),
    ("hgetex", Open), ("hsetex", Open),
    // lists
    ("lpush", Open), ("rpush", Open), ("lpushx", Open), ("rpushx", Open), ("lpop", Open),
    ("rpop", Open), ("llen", Open), ("lrange", Open), ("lindex", Open), ("lset", Open),
    ("linsert", Open), ("lrem", Open), ("ltrim", Open), ("lmove", Open), ("rpoplpush", Open),
    ("lpos", Open), ("lmpop", Open), ("blpop", Open), ("brpop", Open), ("blmove", Open),
    ("brpoplpush", Open), ("blmpop", Open),
    // sets
    ("sadd", Open), ("srem", Open), ("smembers", Open), ("sismember", Open),
    ("smismember", Open), ("scard", Open), ("spop", Open), ("srandmember", Open),
    ("sinter", Open), ("sintercard", Open), ("sinterstore", Open), ("sunion", Open),
    ("sunionstore", Open), ("sdiff", Open), ("sdiffstore", Open), ("smove", Open),
    ("sscan", Open),
    // sorted sets
    ("zadd", Open), ("zincrby", Open), ("zrem", Open), ("zcard", Open), ("zcount", Open),
    ("zscore", Open), ("zmscore", Open), ("zrank", Open), ("zrevrank", Open), ("zrange", Open),
    ("zrangestore", Open), ("zrevrange", Open), ("zrangebyscore", Open),
    ("zrevrangebyscore", Open), ("zrangebylex", Open), ("zrevrangebylex", Open),
    ("zlexcount", Open), ("zremrangebyrank", Open), ("zremrangebyscore", Open),
    ("zremrangebylex", Open), ("zpopmin", Open), ("zpopmax", Open), ("zmpop", Open),
    ("zunion", Open), ("zunionstore", Open), ("zinter", Open), ("zinterstore", Open),
    ("zintercard", Open), ("zdiff", Open), ("zdiffstore", Open), ("zrandmember", Open),
    ("zscan", Open), ("bzpopmin", Open), ("bzpopmax", Open), ("bzmpop", Open),
    // bitmaps, hyperloglog, geo
    ("setbit", Open), ("getbit", Open), ("bitcount", Open), ("bitpos", Open), ("bitop", Open),
    ("bitfield", Open), ("bitfield_ro", Open), ("pfadd", Open), ("pfcount", Open),
    ("pfmerge", Open), ("geoadd", Open), ("geodist", Open), ("geohash", Open),
    ("geopos", Open), ("geosearch", Open), ("geosearchstore", Open),
    // streams
    ("xadd", Open), ("xlen", Open), ("xrange", Open), ("xrevrange", Open), ("xdel", Open),
    ("xtrim", Open), ("xread", Open), ("xreadgroup", Open), ("xack", Open),
    ("xpending", Open), ("xclaim", Open), ("xautoclaim", Open), ("xsetid", Open),
    ("xgroup", Subcommands(&["create", "createconsumer", "delconsumer", "destroy", "setid", "help"])),
    ("xinfo", Subcommands(&["stream", "groups", "consumers", "help"])),
    // scripting and transactions
    ("eval", Open), ("evalsha", Open), ("eval_ro", Open), ("evalsha_ro", Open),
    ("script", Subcommands(&["load", "exists", "flush", "kill", "help"])),
    // Redis Functions: the graded exercises' libraries (no RESTORE of raw
    // payloads: a library is loaded from its source)
    ("function", Subcommands(&["load", "list", "delete", "flush", "dump", "stats", "kill", "help"])),
    ("fcall", Open), ("fcall_ro", Open),
    ("multi", Open), ("exec", Open), ("discard", Open), ("watch", Open), ("unwatch", Open),
    // pub/sub: publishing only (see the policy for SUBSCRIBE)
    ("publish", Open), ("pubsub", Subcommands(&["channels", "numsub", "numpat", "help"])),
    // connection and inspection
    ("ping", Open), ("echo", Open), ("time", Open), ("lastsave", Open), ("role", Open),
    ("lolwut", Open), ("info", Open),
    ("config", Subcommands(&["get"])),
    ("command", Subcommands(&["docs", "info", "count", "list", "getkeys", "getkeysandflags", "help"])),
    ("client", Subcommands(&["id", "getname", "setname"])),
    ("slowlog", Subcommands(&["get", "len", "reset", "help"])),
    ("latency", Subcommands(&["latest", "history", "doctor", "reset", "help"])),
    // RedisJSON
    ("json.set", Open), ("json.get", Open), ("json.mget", Open), ("json.mset", Open),
    ("json.del", Open), ("json.forget", Open), ("json.type", Open), ("json.numincrby", Open),
    ("json.nummultby", Open), ("json.strappend", Open), ("json.strlen", Open),
    ("json.arrappend", Open), ("json.arrindex", Open), ("json.arrinsert", Open),
    ("json.arrlen", Open), ("json.arrpop", Open), ("json.arrtrim", Open),
    ("json.objkeys", Open), ("json.objlen", Open), ("json.clear", Open), ("json.toggle", Open),
    ("json.resp", Open), ("json.merge", Open),
    // RediSearch (no FT.CONFIG: it changes the module for every sandbox's limits)
    ("ft.create", Open), ("ft.search", Open), ("ft.aggregate", Open), ("ft.info", Open),
    ("ft._list", Open), ("ft.dropindex", Open), ("ft.alter", Open), ("ft.explain", Open),
    ("ft.explaincli", Open), ("ft.profile", Open), ("ft.tagvals", Open),
    ("ft.spellcheck", Open), ("ft.dictadd", Open), ("ft.dictdel", Open), ("ft.dictdump", Open),
    ("ft.syndump", Open), ("ft.synupdate", Open), ("ft.aliasadd", Open), ("ft.aliasdel", Open),
    ("ft.aliasupdate", Open), ("ft.sugadd", Open), ("ft.sugget", Open), ("ft.suglen", Open),
    ("ft.sugdel", Open), ("ft.cursor", Open),
    // RedisBloom
    ("bf.add", Open), ("bf.madd", Open), ("bf.exists", Open), ("bf.mexists", Open),
    ("bf.reserve", Open), ("bf.insert", Open), ("bf.info", Open), ("bf.card", Open),
    ("cf.add", Open), ("cf.addnx", Open), ("cf.exists", Open), ("cf.mexists", Open),
    ("cf.del", Open), ("cf.count", Open), ("cf.reserve", Open), ("cf.info", Open),
    ("cf.insert", Open), ("cf.insertnx", Open), ("cms.initbydim", Open),
    ("cms.initbyprob", Open), ("cms.incrby", Open), ("cms.query", Open), ("cms.merge", Open),
    ("cms.info", Open), ("topk.reserve", Open), ("topk.add", Open), ("topk.incrby", Open),
    ("topk.query", Open), ("topk.count", Open), ("topk.list", Open), ("topk.info", Open),
    ("tdigest.create", Open), ("tdigest.add", Open), ("tdigest.quantile", Open),
    ("tdigest.cdf", Open), ("tdigest.min", Open), ("tdigest.max", Open), ("tdigest.info", Open),
    ("tdigest.reset", Open), ("tdigest.trimmed_mean", Open), ("tdigest.rank", Open),
    ("tdigest.revrank", Open), ("tdigest.byrank", Open), ("tdigest.byrevrank", Open),
    ("tdigest.merge", Open),
    // Vector Sets (built into Redis 8)
    ("vadd", Open), ("vsim", Open), ("vrem", Open), ("vcard", Open), ("vdim", Open),
    ("vemb", Open), ("vinfo", Open), ("vlinks", Open), ("vrandmember", Open),
    ("vsetattr", Open), ("vgetattr", Open), ("vismember", Open),
];

/// What the backend's own connection needs beyond the learner's list.
const INTERNAL: &[&str] = &["script|kill", "function|kill", "ping"];

pub fn lookup(name: &str) -> Option<Access> {
    ALLOWED
        .iter()
        .find(|(allowed, _)| *allowed == name)
        .map(|(_, access)| *access)
}

/// The ACL rule for the sandbox's only user, limited to commands `known`
/// to the engine (lowercase names from `COMMAND LIST`).
pub fn acl_rules(known: &dyn Fn(&str) -> bool) -> String {
    let mut rules = String::from("-@all");
    for (name, access) in ALLOWED.iter().filter(|(name, _)| known(name)) {
        match access {
            Open => {
                rules.push_str(" +");
                rules.push_str(name);
            }
            Subcommands(subs) => {
                for sub in subs.iter() {
                    rules.push_str(&format!(" +{name}|{sub}"));
                }
            }
        }
    }
    for extra in INTERNAL {
        let parent = extra.split('|').next().unwrap_or(extra);
        if known(parent) && !rules.contains(&format!(" +{extra}")) {
            rules.push_str(" +");
            rules.push_str(extra);
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for (name, _) in ALLOWED {
            assert_eq!(*name, name.to_lowercase());
            assert!(seen.insert(*name), "{name} listed twice");
        }
    }

    #[test]
    fn acl_rules_start_from_nothing_and_skip_unknown_commands() {
        let rules = acl_rules(&|name| !name.starts_with("ft."));
        assert!(rules.starts_with("-@all "));
        assert!(rules.contains(" +hset"));
        assert!(rules.contains(" +config|get"));
        assert!(!rules.contains("config|set"));
        assert!(!rules.contains("ft.search"));
        assert!(rules.contains(" +script|kill"));
    }

    #[test]
    fn dangerous_commands_are_not_allowed() {
        for name in [
            "shutdown",
            "debug",
            "module",
            "monitor",
            "subscribe",
            "replicaof",
            "slaveof",
            "migrate",
            "acl",
            "hello",
            "reset",
            "auth",
            "save",
            "bgsave",
            "restore",
            "sync",
            "psync",
            "failover",
            "cluster",
            "wait",
        ] {
            assert_eq!(lookup(name), None, "{name}");
        }
        assert_eq!(lookup("config"), Some(Subcommands(&["get"])));
    }
}
