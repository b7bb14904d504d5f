"""The same command scripts against real redis-server 7.0 and dragonfly-py: replies must be equal.

Each script runs on a freshly flushed server, once in RESP2 and once in RESP3. A line starting
with ``~`` compares its reply as an unordered collection (set members, hashtable order).
Hand-written scripts cover each family's edge cases and error texts; generated scripts add
random sequences over a small keyspace with a fixed seed.
"""

from __future__ import annotations

import contextlib
import random
import shlex
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from tests.helpers import RawConnection, ServerProcess, start_dragonfly, start_redis, wait_for

pytestmark = pytest.mark.interop

SCRIPTS: dict[str, str] = {
    "strings": """
        SET a 1
        GET a
        GET missing
        SET a 2 NX
        SET a 3 XX
        SET b 3 XX
        SET a 4 GET
        SET a 5 NX XX
        SET a 5 EX 0
        SET a 5 EX -1
        SET a 5 PX 9223372036854775807
        SET a 5 EX 10 KEEPTTL
        SET a 5 KEEPTTL GET
        SET a 5 EX abc
        SET
        SETNX a 9
        SETNX n 9
        SETEX s 100 v
        TTL s
        SETEX s 0 v
        PSETEX p 100000 v
        TTL p
        MSET k1 v1 k2 v2
        MSET k1
        MGET k1 k2 nope
        MSET d a d b p again
        MGET d p
        TTL p
        MSETNX k1 x k3 y
        MSETNX k3 x k4 y
        GETSET k1 new
        GETDEL k1
        GETDEL k1
        GETEX k2 PERSIST
        GETEX k2 EX 100
        TTL k2
        GETEX k2 EX 10 PX 10
        GETEX nope EX 10
        APPEND k2 more
        APPEND fresh abc
        STRLEN k2
        STRLEN nope
        SET n 10
        INCR n
        DECR n
        INCRBY n 5
        DECRBY n 3
        INCRBY n abc
        INCRBY n 1.5
        SET big 9223372036854775807
        INCR big
        DECRBY n -9223372036854775808
        SET f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5
        INCRBYFLOAT f 1e17
        INCRBYFLOAT f abc
        SET s hello
        INCR s
        INCRBYFLOAT s 1
        GETRANGE s 0 2
        GETRANGE s -3 -1
        GETRANGE s 10 20
        GETRANGE s 3 1
        GETRANGE s -1 -5
        SETRANGE s 1 EE
        SETRANGE s 10 X
        GET s
        SETRANGE s -1 x
        SETRANGE empty 0 ""
        SETRANGE newkey 2 ab
        GET newkey
        SUBSTR s 0 3
        LPUSH list x
        GET list
        SET list y GET
        APPEND list z
        LCS s newkey
        LCS s newkey LEN
        GET
        GET a b
        INCR
    """,
    "keys": """
        SET a 1
        SET b 2
        RPUSH l 1 2
        EXISTS a b nope a
        DEL a nope
        UNLINK b
        EXISTS a
        TYPE l
        TYPE nope
        SET e v
        EXPIRE e 100
        TTL e
        PTTL nope
        TTL l
        EXPIRE e 100 NX
        EXPIRE e 200 XX
        EXPIRE e 50 GT
        EXPIRE e 50 LT
        EXPIRE e 10 NX XX
        EXPIRE e 10 GT LT
        EXPIRE e 10 FOO
        EXPIRE e abc
        EXPIRE e 9223372036854775807
        PEXPIRE e 100000
        EXPIREAT e 4102444800
        EXPIRETIME e
        PEXPIRETIME e
        EXPIRETIME l
        EXPIRETIME nope
        PERSIST e
        PERSIST e
        TTL e
        EXPIRE e -1
        EXISTS e
        EXPIRE nope 10
        PEXPIREAT nope 1
        SET r1 v
        RENAME r1 r2
        GET r2
        RENAME nope x
        RENAME r2 r2
        SET r3 w
        RENAMENX r2 r3
        RENAMENX r2 r4
        RENAMENX nope r5
        COPY r4 c1
        COPY r4 c1
        COPY r4 c1 REPLACE
        COPY r4 r4
        COPY r4 c9 DB 1
        COPY r4 c9 DB 99
        COPY r4 c9 BOGUS
        MOVE c1 1
        MOVE c1 1
        MOVE c1 99
        MOVE c1 abc
        SELECT 1
        GET c1
        GET c9
        DBSIZE
        SELECT 0
        SELECT 16
        SELECT abc
        ~KEYS *
        ~KEYS r*
        KEYS l?
        KEYS [lr]4
        DBSIZE
        TOUCH r4 nope
        OBJECT ENCODING r4
        OBJECT ENCODING nope
        SET num 12345
        OBJECT ENCODING num
        SET longs aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        OBJECT ENCODING longs
        OBJECT ENCODING l
        OBJECT FOO x
        FLUSHDB
        DBSIZE
        FLUSHALL ASYNC
        FLUSHALL BOGUS
        SET s1 a
        SWAPDB 0 1
        GET s1
        SELECT 1
        GET s1
        SELECT 0
        SWAPDB 0 99
        SWAPDB a 1
        RANDOMKEY
        DEL
    """,
    "scan": """
        MSET k1 1 k2 2 k3 3
        RPUSH list a
        ~SCAN 0 COUNT 100 MATCH k*
        SCAN 0 COUNT 100 TYPE list
        SCAN 0 COUNT 0
        SCAN abc
        SCAN 0 BOGUS x
        HSET h f1 v1 f2 v2
        HSCAN h 0
        HSCAN h 0 MATCH f1
        SADD s 1 2 3
        SSCAN s 0
        ZADD z 1 a 2 b
        ZSCAN z 0
        ZSCAN z 0 MATCH b
        HSCAN nope 0
    """,
    "hashes": """
        HSET h f1 v1 f2 v2
        HSET h f1 new
        HSET h f3
        HGET h f1
        HGET h nope
        HGET nope f
        HMGET h f1 f2 nope
        HMSET h f4 v4
        HSETNX h f4 x
        HSETNX h f5 x
        HLEN h
        HSTRLEN h f1
        HEXISTS h f1
        HEXISTS h zz
        HGETALL h
        HKEYS h
        HVALS h
        HDEL h f1 nope
        HDEL h f2 f3 f4 f5
        EXISTS h
        HINCRBY c n 5
        HINCRBY c n -10
        HINCRBY c n abc
        HSET c s str
        HINCRBY c s 1
        HINCRBYFLOAT c fl 1.5
        HINCRBYFLOAT c fl 0.1
        HINCRBYFLOAT c s 1
        HSET c big 9223372036854775807
        HINCRBY c big 1
        HGETALL nope
        HRANDFIELD nope
        HRANDFIELD nope 5
        HSET one only v
        HRANDFIELD one
        HRANDFIELD one 1 WITHVALUES
        HRANDFIELD one -2
        HRANDFIELD one 1 BOGUS
        SET str x
        HGET str f
        HSET str f v
        OBJECT ENCODING c
        HGETALL c
    """,
    "lists": """
        RPUSH l a b c
        LPUSH l z
        LRANGE l 0 -1
        LRANGE l -100 100
        LRANGE l 2 1
        LRANGE l abc 1
        LPUSHX nope a
        RPUSHX l d
        LLEN l
        LLEN nope
        LINDEX l 0
        LINDEX l -1
        LINDEX l 99
        LSET l 0 Z
        LSET l 99 x
        LSET nope 0 x
        LPOP l
        RPOP l
        LPOP l 0
        LPOP l 2
        LPOP l -1
        LPOP nope
        LPOP nope 2
        RPUSH m a b a c a
        LREM m 2 a
        LRANGE m 0 -1
        RPUSH m a a
        LREM m -1 a
        LREM m 0 a
        LRANGE m 0 -1
        LINSERT m BEFORE c x
        LINSERT m AFTER c y
        LINSERT m AFTER nope y
        LINSERT m MIDDLE c y
        LINSERT nope BEFORE a b
        LRANGE m 0 -1
        RPUSH p a b c a b c a
        LPOS p a
        LPOS p a RANK 2
        LPOS p a RANK -1
        LPOS p a COUNT 0
        LPOS p a COUNT 2 RANK 2
        LPOS p a MAXLEN 2 COUNT 0
        LPOS p zz
        LPOS p a RANK 0
        LPOS p a COUNT -1
        LTRIM p 1 3
        LRANGE p 0 -1
        LTRIM p 5 1
        EXISTS p
        RPUSH src 1 2 3
        LMOVE src dst LEFT RIGHT
        LMOVE src dst RIGHT LEFT
        LMOVE src dst UP LEFT
        RPOPLPUSH src dst
        LRANGE dst 0 -1
        EXISTS src
        RPOPLPUSH nope dst
        LMPOP 2 nope dst LEFT
        LMPOP 1 dst RIGHT COUNT 5
        LMPOP 1 dst RIGHT
        LMPOP 0 dst LEFT
        LMPOP 1 dst LEFT COUNT 0
        LMPOP 1 dst SIDEWAYS
        RPUSH b1 x
        BLPOP b1 0
        BLPOP nope 0.01
        BRPOP b1 abc
        BLPOP b1 -1
        RPUSH b2 1 2
        BRPOP nope b2 1
        BLMOVE b2 b3 LEFT LEFT 1
        BRPOPLPUSH b3 b4 1
        BLMPOP 1 1 b4 LEFT COUNT 3
        BLMPOP 0.01 1 nope LEFT
        SET s x
        LPUSH s a
        LRANGE s 0 1
    """,
    "sets": """
        SADD s a b c
        SADD s a d
        SCARD s
        SCARD nope
        SISMEMBER s a
        SISMEMBER s z
        SMISMEMBER s a z b
        ~SMEMBERS s
        SMEMBERS nope
        SREM s a z
        SREM nope a
        SADD i 3 1 2 10
        SMEMBERS i
        OBJECT ENCODING i
        OBJECT ENCODING s
        SADD t b c x
        ~SINTER s t
        ~SUNION s t
        ~SDIFF s t
        SINTER s nope
        SINTERSTORE d s t
        SUNIONSTORE d s t
        SDIFFSTORE d s t
        SDIFFSTORE d nope
        EXISTS d
        SINTERCARD 2 s t
        SINTERCARD 2 s t LIMIT 1
        SINTERCARD 0 s
        SINTERCARD 5 s
        SINTERCARD 1 s LIMIT -1
        SMOVE s t b
        SMOVE s t nope
        SMOVE nope t a
        SPOP nope
        SPOP nope 3
        SPOP s -1
        SADD one x
        SPOP one
        EXISTS one
        SRANDMEMBER nope
        SRANDMEMBER nope 3
        SADD one y
        SRANDMEMBER one
        SRANDMEMBER one 5
        SRANDMEMBER one -3
        SET str v
        SADD str a
        SMEMBERS str
    """,
    "zsets": """
        ZADD z 1 a 2 b 3 c
        ZADD z 1 a
        ZADD z 7 a
        ZADD z 1 a
        ZADD z 0 new
        ZADD z 007 lead
        ZADD z 1e400 big
        ZADD z +inf pinf2 -INF ninf2
        ZSCORE z big
        ZPOPMIN z
        ZPOPMAX z
        SET zstr v
        ZADD zstr 1 a
        ZPOPMIN zstr
        ZPOPMAX zstr
        ZADD one 5 m
        ZPOPMAX one
        EXISTS one
        ZADD z NX 10 a 4 d
        ZADD z XX 10 a 5 e
        ZADD z XX NX 1 a
        ZADD z GT LT 1 a
        ZADD z GT NX 1 a
        ZADD z GT 5 a
        ZADD z LT 20 a
        ZADD z CH 1 a 2 b 9 f
        ZADD z INCR 5 a
        ZADD z INCR 5 a 1 b
        ZADD z NX INCR 1 a
        ZADD z nan x
        ZADD z 1
        ZADD z 1 a 2
        ZADD z inf pinf -inf ninf
        ZINCRBY z 2.5 b
        ZINCRBY z abc b
        ZCARD z
        ZSCORE z a
        ZSCORE z nope
        ZMSCORE z a nope b
        ZRANK z a
        ZREVRANK z a
        ZRANK z nope
        ZRANGE z 0 -1
        ZRANGE z 0 -1 WITHSCORES
        ZRANGE z -2 -1 WITHSCORES
        ZRANGE z 0 -1 REV
        ZRANGE z 0 1 LIMIT 0 1
        ZRANGE z (1 5 BYSCORE
        ZRANGE z 5 (1 BYSCORE REV WITHSCORES
        ZRANGE z -inf +inf BYSCORE LIMIT 1 2
        ZRANGE z -inf +inf BYSCORE LIMIT -1 2
        ZRANGE z abc 5 BYSCORE
        ZREVRANGE z 0 2 WITHSCORES
        ZRANGEBYSCORE z 1 3 WITHSCORES
        ZRANGEBYSCORE z (1 (3
        ZREVRANGEBYSCORE z +inf -inf LIMIT 0 2
        ZCOUNT z 1 3
        ZCOUNT z (1 (3
        ZCOUNT z a b
        ZADD lex 0 a 0 b 0 c 0 d 0 e
        ZRANGEBYLEX lex - +
        ZRANGEBYLEX lex [b (d
        ZRANGEBYLEX lex (b [d LIMIT 1 1
        ZREVRANGEBYLEX lex + - LIMIT 0 2
        ZRANGE lex [e [a BYLEX REV
        ZRANGEBYLEX lex b d
        ZRANGE lex - + BYLEX WITHSCORES
        ZLEXCOUNT lex - +
        ZLEXCOUNT lex [b [c
        ZREMRANGEBYLEX lex [a [b
        ZREMRANGEBYRANK lex 0 0
        ZREMRANGEBYSCORE z -inf 1
        ZRANGE lex 0 -1
        ZRANGESTORE dst z 0 2
        ZRANGE dst 0 -1 WITHSCORES
        ZRANGESTORE dst z 10 20
        EXISTS dst
        ZPOPMIN z
        ZPOPMAX z
        ZPOPMIN z 2
        ZPOPMIN z 0
        ZPOPMIN z -1
        ZPOPMIN nope
        ZPOPMIN nope 2
        ZADD q 1 a 2 b 3 c
        BZPOPMIN q 1
        BZPOPMAX nope q 1
        BZPOPMIN nope 0.01
        ZMPOP 1 q MIN
        ZMPOP 2 nope q MAX COUNT 5
        ZMPOP 1 q MIN
        ZMPOP 1 q SIDEWAYS
        ZADD q 1 a
        BZMPOP 1 1 q MAX COUNT 2
        ZADD u1 1 a 2 b 3 c
        ZADD u2 10 b 20 c 30 d
        SADD plain a d
        ZUNION 2 u1 u2 WITHSCORES
        ZUNION 2 u1 u2 WEIGHTS 2 1 AGGREGATE MAX WITHSCORES
        ZINTER 2 u1 u2 WITHSCORES
        ZINTER 2 u1 u2 AGGREGATE MIN WITHSCORES
        ZDIFF 2 u1 u2 WITHSCORES
        ZUNION 2 u1 plain WITHSCORES
        ZUNIONSTORE out 2 u1 u2
        ZRANGE out 0 -1 WITHSCORES
        ZINTERSTORE out 2 u1 u2 WEIGHTS 1 0.5
        ZRANGE out 0 -1 WITHSCORES
        ZDIFFSTORE out 2 u1 u2
        ZINTERCARD 2 u1 u2
        ZINTERCARD 2 u1 u2 LIMIT 1
        ZUNION 0 u1
        ZUNION 3 u1
        ZUNION 2 u1 u2 WEIGHTS 1
        ZUNION 2 u1 u2 AGGREGATE AVG
        ZRANDMEMBER nope
        ZRANDMEMBER nope 2
        ZADD single 7 only
        ZRANDMEMBER single
        ZRANDMEMBER single 1 WITHSCORES
        ZRANDMEMBER single -2 WITHSCORES
        OBJECT ENCODING u1
        SET str x
        ZADD str 1 a
        ZRANGE str 0 1
    """,
    "transactions": """
        MULTI
        SET a 1
        INCR a
        LPUSH a x
        GET a
        EXEC
        MULTI
        SET b 1
        NOSUCHCOMMAND
        EXEC
        GET b
        MULTI
        GET
        EXEC
        MULTI
        MULTI
        DISCARD
        DISCARD
        EXEC
        WATCH a
        SET a 2
        MULTI
        GET a
        EXEC
        WATCH z a
        MSET x 1 a 3
        MULTI
        GET a
        EXEC
        WATCH a
        MULTI
        WATCH b
        GET a
        EXEC
        UNWATCH
        MULTI
        PING
        ECHO hi
        EXEC
        MULTI
        BLPOP nope 0
        EXEC
        MULTI
        CLIENT KILL TYPE pubsub
        CONFIG SET maxmemory-policy noeviction
        EXEC
    """,
    "connection": """
        PING
        PING hello
        PING a b
        ECHO hi
        ECHO
        SELECT 3
        SET x y
        SELECT 0
        EXISTS x
        AUTH nopass
        AUTH user pass
        CLIENT SETNAME myname
        CLIENT GETNAME
        CLIENT SETNAME "bad name"
        CLIENT NO-EVICT on
        CLIENT NO-EVICT maybe
        CLIENT KILL 1.2.3.4:5
        CLIENT KILL ID 999999
        CLIENT KILL TYPE bogus
        CLIENT KILL ID abc
        CLIENT KILL FOO bar
        CLIENT FOO
        CLIENT
        CLIENT UNBLOCK 999999
        CLIENT UNBLOCK 999999 MAYBE
        UNKNOWNCMD a b
        unknowncmd
        COMMAND GETKEYS SET a b
        COMMAND GETKEYS MSET a b c d
        COMMAND GETKEYS PING x
        COMMAND GETKEYS NOSUCH x
        COMMAND GETKEYS GET
        HELLO 4
        HELLO abc
        CONFIG GET maxmemory-policy
        CONFIG GET bogus-nothing
        CONFIG SET bogus x
        CONFIG SET maxclients abc
        CONFIG SET daemonize no
        CONFIG SET appendonly maybe
        CONFIG SET loglevel foo
        CONFIG SET maxmemory 1x
        CONFIG SET save "10 a"
        CONFIG SET hz 5 hz 6
        CONFIG SET dir /tmp
        CONFIG SET maxmemory 1mb
        CONFIG GET maxmemory
        CONFIG SET maxmemory 0
        CONFIG SET slave-priority 50
        CONFIG GET replica-priority
        CONFIG SET
        CONFIG GET
        CONFIG REWRITE
        CONFIG RESETSTAT
        WAIT 0 0
        WAIT a 0
        SHUTDOWN BOGUS
        SHUTDOWN ABORT
        SLOWLOG RESET
        SLOWLOG LEN
        SLOWLOG GET -5
        LASTSAVE x
        TIME x
        DBSIZE x
        QUIT
    """,
    "command_keys": """
        COMMAND GETKEYS get
        COMMAND GETKEYSANDFLAGS get
        COMMAND GETKEYS get a b
        COMMAND GETKEYSANDFLAGS get a b
        COMMAND GETKEYS get a
        COMMAND GETKEYSANDFLAGS get a
        COMMAND GETKEYS zunion x a b
        COMMAND GETKEYSANDFLAGS zunion x a b
        COMMAND GETKEYS zunion 5 a b
        COMMAND GETKEYSANDFLAGS zunion 5 a b
        COMMAND GETKEYS zunion 0 a
        COMMAND GETKEYSANDFLAGS zunion 0 a
        COMMAND GETKEYS zunion -1 a
        COMMAND GETKEYSANDFLAGS zunion -1 a
        COMMAND GETKEYS zunion 1.5 a b
        COMMAND GETKEYSANDFLAGS zunion 1.5 a b
        COMMAND GETKEYS zunion 2 a b weights 1 2
        COMMAND GETKEYSANDFLAGS zunion 2 a b weights 1 2
        COMMAND GETKEYS zunionstore d x a
        COMMAND GETKEYSANDFLAGS zunionstore d x a
        COMMAND GETKEYS zunionstore d 3 a b
        COMMAND GETKEYSANDFLAGS zunionstore d 3 a b
        COMMAND GETKEYS zunionstore d 1.5 a
        COMMAND GETKEYSANDFLAGS zunionstore d 1.5 a
        COMMAND GETKEYS zdiffstore d 2x a b
        COMMAND GETKEYSANDFLAGS zdiffstore d 2x a b
        COMMAND GETKEYS zinterstore d 2 a b
        COMMAND GETKEYSANDFLAGS zinterstore d 2 a b
        COMMAND GETKEYS xread count 1 streams a b 0 0
        COMMAND GETKEYSANDFLAGS xread count 1 streams a b 0 0
        COMMAND GETKEYS xread streams a b 0
        COMMAND GETKEYSANDFLAGS xread streams a b 0
        COMMAND GETKEYS xread streams
        COMMAND GETKEYSANDFLAGS xread streams
        COMMAND GETKEYS xread count 1 a b
        COMMAND GETKEYSANDFLAGS xread count 1 a b
        COMMAND GETKEYS xread count 1 streams
        COMMAND GETKEYSANDFLAGS xread count 1 streams
        COMMAND GETKEYS xread count 1 streams a b c
        COMMAND GETKEYSANDFLAGS xread count 1 streams a b c
        COMMAND GETKEYS xreadgroup group g c streams a b 0 0
        COMMAND GETKEYSANDFLAGS xreadgroup group g c streams a b 0 0
        COMMAND GETKEYS xreadgroup group g c count 1 streams a 0
        COMMAND GETKEYSANDFLAGS xreadgroup group g c count 1 streams a 0
        COMMAND GETKEYS lmpop 0 a left
        COMMAND GETKEYSANDFLAGS lmpop 0 a left
        COMMAND GETKEYS lmpop x a left
        COMMAND GETKEYSANDFLAGS lmpop x a left
        COMMAND GETKEYS lmpop 1 a b c
        COMMAND GETKEYSANDFLAGS lmpop 1 a b c
        COMMAND GETKEYS lmpop 1x a left
        COMMAND GETKEYSANDFLAGS lmpop 1x a left
        COMMAND GETKEYS blmpop 0 x a left
        COMMAND GETKEYSANDFLAGS blmpop 0 x a left
        COMMAND GETKEYS blmpop 0 1e0 a left
        COMMAND GETKEYSANDFLAGS blmpop 0 1e0 a left
        COMMAND GETKEYS blmpop 0 2 a b left
        COMMAND GETKEYSANDFLAGS blmpop 0 2 a b left
        COMMAND GETKEYS zmpop 1.9 a min
        COMMAND GETKEYSANDFLAGS zmpop 1.9 a min
        COMMAND GETKEYS bzmpop 0 1.1 a min
        COMMAND GETKEYSANDFLAGS bzmpop 0 1.1 a min
        COMMAND GETKEYS bzmpop 0 2 a b min
        COMMAND GETKEYSANDFLAGS bzmpop 0 2 a b min
        COMMAND GETKEYS sintercard 3 a b
        COMMAND GETKEYSANDFLAGS sintercard 3 a b
        COMMAND GETKEYS sintercard 1.2 a
        COMMAND GETKEYSANDFLAGS sintercard 1.2 a
        COMMAND GETKEYS sintercard 2 a b limit 1
        COMMAND GETKEYSANDFLAGS sintercard 2 a b limit 1
        COMMAND GETKEYS zintercard 2.2 a b
        COMMAND GETKEYSANDFLAGS zintercard 2.2 a b
        COMMAND GETKEYS zintercard 01 a b
        COMMAND GETKEYSANDFLAGS zintercard 01 a b
        COMMAND GETKEYS zintercard -0 a b
        COMMAND GETKEYSANDFLAGS zintercard -0 a b
        COMMAND GETKEYS ping
        COMMAND GETKEYSANDFLAGS ping
        COMMAND GETKEYS ping a
        COMMAND GETKEYSANDFLAGS ping a
        COMMAND GETKEYS nosuch a
        COMMAND GETKEYSANDFLAGS nosuch a
        COMMAND GETKEYS mset a 1 b
        COMMAND GETKEYSANDFLAGS mset a 1 b
        COMMAND GETKEYS mset a 1 b 2 c
        COMMAND GETKEYSANDFLAGS mset a 1 b 2 c
        COMMAND GETKEYS client list
        COMMAND GETKEYSANDFLAGS client list
        COMMAND GETKEYS client nosuch x
        COMMAND GETKEYSANDFLAGS client nosuch x
        COMMAND GETKEYS client
        COMMAND GETKEYSANDFLAGS client
        COMMAND GETKEYS object
        COMMAND GETKEYSANDFLAGS object
        COMMAND GETKEYS object help
        COMMAND GETKEYSANDFLAGS object help
        COMMAND GETKEYS object encoding k
        COMMAND GETKEYSANDFLAGS object encoding k
        COMMAND GETKEYS memory usage k
        COMMAND GETKEYSANDFLAGS memory usage k
        COMMAND GETKEYS memory usage k samples 5
        COMMAND GETKEYSANDFLAGS memory usage k samples 5
        COMMAND GETKEYS set a b
        COMMAND GETKEYSANDFLAGS set a b
        COMMAND GETKEYS set a b get
        COMMAND GETKEYSANDFLAGS set a b get
        COMMAND GETKEYS set a b nx GET
        COMMAND GETKEYSANDFLAGS set a b nx GET
        COMMAND GETKEYS set a b getx
        COMMAND GETKEYSANDFLAGS set a b getx
        COMMAND GETKEYS getex a persist
        COMMAND GETKEYSANDFLAGS getex a persist
        COMMAND GETKEYS xadd s "*" f v
        COMMAND GETKEYSANDFLAGS xadd s "*" f v
        COMMAND GETKEYS xgroup create s g 0
        COMMAND GETKEYSANDFLAGS xgroup create s g 0
        COMMAND GETKEYS xgroup help
        COMMAND GETKEYSANDFLAGS xgroup help
        COMMAND GETKEYS xinfo stream s
        COMMAND GETKEYSANDFLAGS xinfo stream s
        COMMAND GETKEYS watch a b
        COMMAND GETKEYSANDFLAGS watch a b
        COMMAND GETKEYS del a b c
        COMMAND GETKEYSANDFLAGS del a b c
        COMMAND GETKEYS bzpopmin a b 0
        COMMAND GETKEYSANDFLAGS bzpopmin a b 0
        COMMAND GETKEYS lcs a b
        COMMAND GETKEYSANDFLAGS lcs a b
        COMMAND GETKEYS zrangestore d s 0 1
        COMMAND GETKEYSANDFLAGS zrangestore d s 0 1
        COMMAND GETKEYS copy a b db 1
        COMMAND GETKEYSANDFLAGS copy a b db 1
        COMMAND GETKEYS rename a b
        COMMAND GETKEYSANDFLAGS rename a b
        COMMAND GETKEYS smove a b m
        COMMAND GETKEYSANDFLAGS smove a b m
        COMMAND GETKEYS blmove a b left right 0
        COMMAND GETKEYSANDFLAGS blmove a b left right 0
        COMMAND GETKEYS sdiffstore d a b c
        COMMAND GETKEYSANDFLAGS sdiffstore d a b c
        COMMAND GETKEYS exists a b
        COMMAND GETKEYSANDFLAGS exists a b
        COMMAND GETKEYS publish c m
        COMMAND GETKEYSANDFLAGS publish c m
        COMMAND GETKEYS subscribe c
        COMMAND GETKEYSANDFLAGS subscribe c
        COMMAND GETKEYS
        COMMAND GETKEYSANDFLAGS GET
    """,
    "streams": """
        XADD s 0-0 a 1
        XADD s 5 a 1
        XADD s 5 a 1
        XADD s 5-* b 2
        XADD s 6-3 c 3 d 4
        XADD s abc a 1
        XADD s 7-1 a
        XADD s MAXLEN -1 7-1 a 1
        XADD s LIMIT 10 7-1 a 1
        XADD nos NOMKSTREAM 7-1 a 1
        EXISTS nos
        XLEN s
        XLEN nos
        XRANGE s - +
        XRANGE s 5 5
        XRANGE s (5 +
        XRANGE s - + COUNT 0
        XRANGE s - + COUNT 2
        XRANGE s x +
        XRANGE s - + FOO 1
        XREVRANGE s + -
        XREVRANGE s + - COUNT 1
        XREVRANGE s (6-3 -
        XREAD STREAMS s 0
        XREAD COUNT 1 STREAMS s 5-0
        XREAD STREAMS s nos 0 0
        XREAD STREAMS s $
        XREAD STREAMS s
        XREAD COUNT x STREAMS s 0
        XREAD BLOCK 10 STREAMS s 9-0
        XREAD STREAMS s >
        XGROUP CREATE s g 0
        XGROUP CREATE s g 0
        XGROUP CREATE nos g 0
        XGROUP CREATE nos2 g2 $ MKSTREAM
        XLEN nos2
        TYPE nos2
        XREADGROUP GROUP g c COUNT 1 STREAMS s >
        XREADGROUP GROUP g c2 STREAMS s >
        XREADGROUP GROUP g c STREAMS s 0
        XREADGROUP GROUP nog c STREAMS s >
        XREADGROUP GROUP g c STREAMS s $
        XREADGROUP GROUP g c BLOCK 10 STREAMS s >
        XPENDING s g
        XPENDING s g - + 10 nobody
        XPENDING s g - + 0
        XPENDING nos2 g2
        XPENDING s nog
        XINFO GROUPS s
        XACK s g 5-0 9-9
        XACK s nog 5-0
        XPENDING s g
        XDEL s 5-1
        XDEL s 5-1
        XLEN s
        XINFO GROUPS s
        XGROUP CREATECONSUMER s g c3
        XGROUP CREATECONSUMER s g c3
        XGROUP DELCONSUMER s g c2
        XGROUP SETID s g 0
        XGROUP SETID s nog 0
        XINFO GROUPS s
        XGROUP DESTROY s g
        XGROUP DESTROY s g
        XINFO GROUPS s
        XGROUP HELP
        XINFO HELP
        XINFO STREAM nosuch
        XADD t 1-1 f v
        XADD t 2-1 f v
        XADD t 3-1 f v g w
        XTRIM t MAXLEN 2
        XRANGE t - +
        XTRIM t MINID 3
        XRANGE t - +
        XTRIM t MAXLEN ~ 0
        XTRIM t FOO 1
        XTRIM t MAXLEN 1 LIMIT 5
        XSETID t 1-0
        XSETID t 9-9
        XADD t 9-9 f v
        XSETID nos 1-1
        SET str x
        XADD str 1-1 f v
        XLEN str
    """,
    "pubsub": """
        PUBLISH ch msg
        PUBSUB CHANNELS
        PUBSUB NUMSUB ch other
        PUBSUB NUMPAT
        PUBSUB FOO
        SUBSCRIBE ch1 ch2
        PSUBSCRIBE p*
        PING
        GET x
        UNSUBSCRIBE ch1
        PUNSUBSCRIBE
        UNSUBSCRIBE
        UNSUBSCRIBE
    """,
}

# Commands whose replies depend on the connection or on time, never compared.
_SKIP_REPLY = {b"hello", b"client", b"quit", b"subscribe", b"psubscribe", b"unsubscribe", b"punsubscribe"}


def _run_script(conn: RawConnection, lines: list[str]) -> Iterator[tuple[str, object]]:
    for line in lines:
        unordered = line.startswith("~")
        words = shlex.split(line.lstrip("~"))
        conn.send_raw(conn.encode(words))
        name = words[0].lower().encode()
        if name in (b"subscribe", b"psubscribe", b"unsubscribe", b"punsubscribe") and len(words) > 1:
            replies = [conn.read() for _ in range(max(1, len(words) - 1))]
            yield line, replies
            continue
        if name in (b"subscribe", b"psubscribe", b"unsubscribe", b"punsubscribe"):
            yield line, conn.read()
            continue
        reply = conn.read()
        if unordered:
            reply = _sorted_deep(reply)
        yield line, reply


def _run_pipelined(conn: RawConnection, lines: list[str]) -> Iterator[tuple[str, object]]:
    """The whole script in one write, so the server runs it as one batch: a command that changes
    the client's state (MULTI, CLIENT REPLY, SELECT ...) acts on the commands queued behind it."""
    conn.send_raw(b"".join(conn.encode(shlex.split(line.lstrip("~"))) for line in lines))
    for line in lines:
        reply = conn.read()
        yield line, _sorted_deep(reply) if line.startswith("~") else reply


def _sorted_deep(reply: object) -> object:
    """Order-insensitive form: lists sorted (SCAN's nested key list too)."""
    if isinstance(reply, list):
        return sorted((_sorted_deep(r) for r in reply), key=repr)
    return reply


def _normalize(line: str, reply: object) -> object:
    words = shlex.split(line.lstrip("~"))
    if words[0].upper() == "CLIENT" and len(words) > 1 and words[1].upper() in ("GETNAME", "SETNAME", "NO-EVICT"):
        return _errors_as_text(reply)
    if words[0].lower().encode() in _SKIP_REPLY and not isinstance(reply, Exception):
        return "<skipped>"
    if words[0].upper() == "RANDOMKEY" or (words[0].upper() == "CONFIG" and words[1:2] == ["RESETSTAT"]):
        return "<skipped>"
    return _errors_as_text(reply)


def _errors_as_text(reply: object) -> object:
    if isinstance(reply, Exception):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [_errors_as_text(r) for r in reply]
    if isinstance(reply, tuple):
        return tuple(_errors_as_text(r) for r in reply)
    return reply


def _compare(
    real: ServerProcess, ours: ServerProcess, lines: list[str], resp3: bool, run: Callable[..., Any] = _run_script
) -> None:
    connections = [real.connect(), ours.connect()]
    try:
        for conn in connections:
            conn.call("FLUSHALL")
            if resp3:
                conn.call("HELLO", "3")
        got_real = list(run(connections[0], lines))
        got_ours = list(run(connections[1], lines))
    finally:
        for conn in connections:
            conn.close()
    mismatches = [
        f"{line!r}: redis={_normalize(line, a)!r} ours={_normalize(line, b)!r}"
        for (line, a), (_, b) in zip(got_real, got_ours, strict=True)
        if _normalize(line, a) != _normalize(line, b)
    ]
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("family", sorted(SCRIPTS))
def test_script_replies_match_redis(
    family: str, resp3: bool, real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    lines = [line.strip() for line in SCRIPTS[family].strip().splitlines() if line.strip()]
    _compare(real_redis, shared_dragonfly, lines, resp3)


@pytest.mark.parametrize("family", sorted(set(SCRIPTS) - {"pubsub"}))  # one reply per line
def test_pipelined_script_replies_match_redis(
    family: str, real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    lines = [line.strip() for line in SCRIPTS[family].strip().splitlines() if line.strip()]
    _compare(real_redis, shared_dragonfly, lines, resp3=False, run=_run_pipelined)


# Commands that change how the rest of a pipeline runs, between commands the server calls
# without its per-command checks while nothing needs them (ClientConnection.direct_commands).
STATE_CHANGING_PIPELINE = [
    "SET a 1",
    "MULTI",
    "SET b 2",
    "GET a",
    "EXEC",
    "GET b",
    "CLIENT REPLY OFF",
    "SET c 3",
    "INCR c",
    "CLIENT REPLY SKIP",
    "GET c",
    "GET c",
    "CLIENT REPLY ON",
    "GET c",
    "SUBSCRIBE ch",
    "GET a",
    "PING",
    "UNSUBSCRIBE ch",
    "GET a",
    "SELECT 1",
    "GET a",
    "SET a 9",
    "SELECT 0",
    "GET a",
    "HELLO 3",
    "HGETALL nohash",
    "HSET h f v",
    "HGETALL h",
    "HELLO 2",
    "HGETALL h",
    "GET",
    "NOSUCH a",
    "INCR a b",
    "GET a",
    "ECHO end",
]


def _without_client_id(reply: object) -> object:
    """HELLO's reply without the connection's id, which differs between the two servers."""
    if isinstance(reply, dict) and b"id" in reply:
        return {**reply, b"id": 0}
    if isinstance(reply, list) and reply[:1] == [b"server"]:
        return [0 if index and reply[index - 1] == b"id" else item for index, item in enumerate(reply)]
    return reply


@pytest.mark.parametrize("split", [False, True], ids=["one-write", "byte-by-byte"])
def test_state_changes_inside_a_pipeline_match_redis(
    split: bool, real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    payload = b"".join(RawConnection.encode(shlex.split(line)) for line in STATE_CHANGING_PIPELINE)
    replies: list[list[object]] = []
    for server in (real_redis, shared_dragonfly):
        conn = server.connect()
        try:
            conn.call("FLUSHALL")
            if split:
                for offset in range(len(payload)):
                    conn.send_raw(payload[offset : offset + 1])
            else:
                conn.send_raw(payload)
            got: list[object] = []
            while (reply := conn.read()) != b"end":
                got.append(_without_client_id(_errors_as_text(reply)))
            replies.append(got)
        finally:
            conn.close()
    assert replies[1] == replies[0]
    assert replies[0][:3] == [b"OK", b"OK", b"QUEUED"]  # the whole script ran, not just its marker


def _score_ranges_around_binary_members(server: ServerProcess) -> list[object]:
    conn = server.connect()
    try:
        conn.call("DEL", "zbin")
        conn.call("ZADD", "zbin", "1", b"\xff" * 9, "1", b"a", "1", b"", "2", b"\xff", "0", b"\xff" * 20)
        return [
            conn.call("ZRANGEBYSCORE", "zbin", "(1", "+inf"),
            conn.call("ZRANGEBYSCORE", "zbin", "-inf", "(1"),
            conn.call("ZREVRANGEBYSCORE", "zbin", "+inf", "(1"),
            conn.call("ZCOUNT", "zbin", "(0", "(2"),
            conn.call("ZRANGE", "zbin", "0", "-1", "WITHSCORES"),
            [conn.call("ZRANK", "zbin", member) for member in (b"\xff" * 9, b"a", b"", b"\xff", b"\xff" * 20)],
        ]
    finally:
        conn.call("DEL", "zbin")
        conn.close()


def test_score_ranges_past_members_of_any_bytes_match_redis(
    real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    """An exclusive score bound skips every member of that score, however long or high its bytes."""
    assert _score_ranges_around_binary_members(shared_dragonfly) == _score_ranges_around_binary_members(real_redis)


# Framing Redis accepts without complaint: empty and null arrays are skipped, blank inline lines
# too, and a bare bulk string outside an array is read as an inline command.
RAW_FRAMINGS = [
    b"*0\r\n",
    b"*-1\r\n",
    b"*0\r\n*0\r\n*1\r\n$4\r\nPING\r\n*0\r\n",
    b"\r\n\n",
    b"$4\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n$1\r\nx\n\n",  # Redis skips the two bytes after a bulk unread
    b"*2\r\n$4\r\nECHO\r:$1\rxk\r\n",  # and the byte after a header's CR, whatever it is
    # Errors echo the client's bytes as sent, UTF-8 or not.
    b"\xffab\r\n",
    b"*2\r\n$4\r\nnope\r\n$3\r\n\xe9\r\n\r\n",
    b"*3\r\n$6\r\nclient\r\n$4\r\n\xfflst\r\n$1\r\nx\r\n",
]


@pytest.mark.parametrize("raw", RAW_FRAMINGS, ids=repr)
def test_raw_framings_match_redis(raw: bytes, real_redis: ServerProcess, shared_dragonfly: ServerProcess) -> None:
    marker = RawConnection.encode(["ECHO", "end-of-framing"])
    replies: list[list[object]] = []
    for server in (real_redis, shared_dragonfly):
        conn = server.connect()
        try:
            conn.send_raw(raw + marker)
            got: list[object] = []
            while (reply := conn.read()) != b"end-of-framing":
                got.append(_errors_as_text(reply))
            replies.append(got)
        finally:
            conn.close()
    assert replies[1] == replies[0]


# Requests Redis refuses: it answers the ones before, then the error, then closes the connection.
REFUSED_FRAMINGS = [
    b"*2\r\n$4\r\nECHO\r\n+abc\r\n",
    b"*2\r\n$4\r\nECHO\r\n=7\r\ntxt:abc\r\n",
    b"*2\r\n$4\r\nECHO\r\n(12\r\n",
    b"*2\r\n$4\r\nECHO\r\n:12\r\n",
    b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n+v\r\n",
    b"*2\r\n$4\r\nECHO\r\n\r1\r\nx\r\n",  # the CR shown as a space: the error stays one line
    b"*2\r\n$4\r\nECHO\r\n\xff1\r\nx\r\n",
    # Refused when the header arrives, with nothing after it: the client waits for no more.
    b"*3000000000\r\n",
    b"*2\r\n$4\r\nECHO\r\n$600000000\r\n",
    b"*3\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",
    b"*2\r\n$4\r\nECHO\r\n$-1\r\n",
]


@pytest.mark.parametrize("raw", REFUSED_FRAMINGS, ids=repr)
def test_refused_framings_match_redis(raw: bytes, real_redis: ServerProcess, shared_dragonfly: ServerProcess) -> None:
    replies: list[list[object]] = []
    for server in (real_redis, shared_dragonfly):
        conn = server.connect()
        try:
            conn.send_raw(RawConnection.encode(["ECHO", "before"]) + raw)
            got: list[object] = []
            with contextlib.suppress(ConnectionError):
                while True:
                    got.append(_errors_as_text(conn.read()))
            replies.append(got)
        finally:
            conn.close()
    assert replies[1] == replies[0]
    assert replies[0][0] == b"before" and replies[0][-1][0] == "error"


def _fuzzed_framings(seed: int, count: int) -> list[bytes]:
    """Pipelines of whole requests (multibulk and inline) with one to three bytes changed,
    dropped or added: stray type bytes, CRs, LFs, digits, quotes, in headers and payloads."""
    rng = random.Random(seed)
    pipelines = [
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n",
        b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n*3\r\n$4\r\nHGET\r\n$1\r\nh\r\n$1\r\nf\r\n",
    ]
    cases = []
    for _ in range(count):
        case = bytearray(rng.choice(pipelines))
        for _ in range(rng.randint(1, 3)):
            at, roll = rng.randrange(len(case)), rng.random()
            if roll < 0.6:
                case[at] = rng.choice(b"*$:+-\r\n0129abc \"'")
            elif roll < 0.8:
                del case[at]
            else:
                case.insert(at, rng.choice(b"*$\r\n0"))
        cases.append(bytes(case))
    return cases


def _replies_until_closed(port: int, data: bytes) -> bytes:
    """What the server sends for data, the client's side closed after it (so neither server
    waits for more bytes), up to its close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(1 << 16):
            received += chunk
    return received


def test_fuzzed_framings_match_redis(real_redis: ServerProcess, shared_dragonfly: ServerProcess) -> None:
    """Every mutated pipeline gets Redis's replies byte for byte: the requests before a bad one,
    then Redis's protocol error, or Redis's reading of what it takes for inline commands."""
    differ = {}
    for case in _fuzzed_framings(seed=7, count=120):
        theirs = _replies_until_closed(real_redis.port, case)
        mine = _replies_until_closed(shared_dragonfly.port, case)
        if mine != theirs:
            differ[case] = (mine, theirs)
    assert differ == {}


# A request that does not begin with '*' is an inline command, wherever it sits in a read; hiredis
# would parse these as RESP3 aggregates (set, attribute, map, push) that look like arrays.
INLINE_MID_READ = [
    b"~1\r\n$4\r\nPING\r\n",
    b"|1\r\n+a\r\n+b\r\n*1\r\n$4\r\nPING\r\n",
    b"%1\r\n$4\r\nPING\r\n$1\r\nb\r\n",
    b">1\r\n$4\r\nPING\r\n",
    # Not aggregates, but read by hiredis as values; a false is also its "no more data".
    b"#f\r\n",
    b"#t\r\n",
    b"_\r\n",
    b",1.5\r\n",
    b":0\r\n",
]


@pytest.mark.parametrize("raw", INLINE_MID_READ, ids=repr)
def test_inline_requests_inside_a_read_match_redis(
    raw: bytes, real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    replies: list[list[object]] = []
    for server in (real_redis, shared_dragonfly):
        conn = server.connect()
        try:
            conn.send_raw(RawConnection.encode(["ECHO", "before"]) + raw + RawConnection.encode(["ECHO", "after"]))
            got: list[object] = []
            while not got or got[-1] != b"after":
                got.append(_errors_as_text(conn.read()))
            replies.append(got)
        finally:
            conn.close()
    assert replies[1] == replies[0]
    assert any(isinstance(reply, tuple) for reply in replies[0])  # Redis saw inline commands


DIRTY_COUNTED = [
    "HSET h a 1 b 2 c 3",
    "HSET h a 9 d 4",
    "LPUSH l a b",
    "RPUSH l c",
    "SADD s a b a",
    "ZADD z 1 a 2 b",
    "ZADD z 3 c",
    "ZADD z 3 c",
    "ZADD z 4 c",
    "ZPOPMIN z",
    "MSET x 1 y 2",
    "INCR n",
    "SET k v",
    "SET e v EX 100",
    "SETEX e 100 v",
    "RPUSH q a b c",
    "RPOP q 2",
    "LMOVE q q2 LEFT RIGHT",
    "ZPOPMAX z 2",
    "SADD one x",
    "SPOP one",  # the last member: the key goes too, counted once
    "SADD three a b c",
    "SPOP three 5",
    "RENAME e e2",
    "COPY e2 k REPLACE",
    "MOVE e2 10",
    "DEL h l",
    "FLUSHDB",
]


LOOKUPS_COUNTED = [
    "SET a 1",
    "GET a",
    "GET nope",
    "MGET a b nope",
    "EXISTS a nope",
    "HSET h f v",
    "HGET h nope",
    "HGET nope f",
    "LPUSH l x",
    "LRANGE l 0 -1",
    "TYPE nope",
    "TTL a",
    "SET e v PX 1",
    "GET e",
    "GETDEL a",
    "GETSET a 2",
    "GETEX a",
    "SET a 3 GET",
    "SET b 3 GET",
    "SADD s1 x",
    "SUNIONSTORE s3 s1 nope",
    "ZADD z 1 m",
    "ZUNIONSTORE z2 2 z nope",
    "ZRANGESTORE z3 z 0 -1",
    "COPY a a2",
    "OBJECT ENCODING h",
    "MEMORY USAGE a",
    "XADD st 1-1 f v",
    "XREAD STREAMS st nope 0 0",
    "XGROUP CREATE st g 0",
    "XREADGROUP GROUP g c STREAMS st >",
    "XACK st g 1-1",
    "KEYS *",
    "DEL a",
]


def _info_deltas(
    server: ServerProcess, commands: list[str], section: str, fields: tuple[str, ...]
) -> list[tuple[int, ...]]:
    """How much each command moves the given INFO fields, in a db of its own."""
    client = redis.Redis(port=server.port, db=9)
    client.flushdb()
    deltas = []
    for command in commands:
        if command == "GET e":
            time.sleep(0.01)  # e has expired
        before = client.info(section)
        client.execute_command(*command.split())
        after = client.info(section)
        deltas.append(tuple(after[field] - before[field] for field in fields))
    redis.Redis(port=server.port, db=10).flushdb()  # where MOVE put a key
    return deltas


def test_changes_since_last_save_count_as_redis_counts(
    real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    """rdb_changes_since_last_save drives the save rules: a new container is not a change of its own."""
    fields = ("rdb_changes_since_last_save",)
    expected = _info_deltas(real_redis, DIRTY_COUNTED, "persistence", fields)
    assert _info_deltas(shared_dragonfly, DIRTY_COUNTED, "persistence", fields) == expected


def test_keyspace_hits_and_misses_count_as_redis_counts(
    real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    """Reads count each key they look up; writes do not, except those that read as GET does."""
    fields = ("keyspace_hits", "keyspace_misses")
    expected = _info_deltas(real_redis, LOOKUPS_COUNTED, "stats", fields)
    assert _info_deltas(shared_dragonfly, LOOKUPS_COUNTED, "stats", fields) == expected


def _stat(info: object, name: str) -> int:
    assert isinstance(info, bytes)
    return int(next(line for line in info.decode().splitlines() if line.startswith(name + ":")).split(":")[1])


def test_network_counters_count_each_read_write_and_byte(server: ServerProcess) -> None:
    """total_net_input/output_bytes and total_reads/writes_processed, byte for byte as Redis."""
    conn = RawConnection(server.port)
    try:
        info_request = RawConnection.encode(["INFO", "stats"])
        first = conn.call("INFO", "stats")
        assert conn.call("SET", "net:k", b"v" * 100) == b"OK"
        assert conn.call("GET", "net:k") == b"v" * 100
        second = conn.call("INFO", "stats")
    finally:
        conn.sock.close()
    assert isinstance(first, bytes)
    sent = RawConnection.encode(["SET", "net:k", b"v" * 100]) + RawConnection.encode(["GET", "net:k"]) + info_request
    first_reply = b"$%d\r\n%b\r\n" % (len(first), first)
    received = first_reply + b"+OK\r\n" + b"$100\r\n" + b"v" * 100 + b"\r\n"
    assert _stat(second, "total_net_input_bytes") - _stat(first, "total_net_input_bytes") == len(sent)
    assert _stat(second, "total_net_output_bytes") - _stat(first, "total_net_output_bytes") == len(received)
    assert _stat(second, "total_reads_processed") - _stat(first, "total_reads_processed") == 3
    assert _stat(second, "total_writes_processed") - _stat(first, "total_writes_processed") == 3


# Where COMMAND INFO may differ: PUBLISH is may_replicate here (it is propagated, and CLIENT PAUSE
# WRITE holds it, which Redis 7.0 decides by the command's name).
COMMAND_INFO_EXCEPTIONS = {b"publish": 2}


def test_every_command_has_redis_command_info(real_redis: ServerProcess, shared_dragonfly: ServerProcess) -> None:
    """COMMAND INFO's arity, flags, key positions, ACL categories in Redis's order (ACL rules
    and ACL CAT read the same categories), tips and key specs, for each command and subcommand
    both servers have."""
    ours, theirs = RawConnection(shared_dragonfly.port), RawConnection(real_redis.port)
    try:
        names = ours.call("COMMAND", "LIST")
        assert isinstance(names, list) and len(names) > 150
        differ = {}
        for name in names:
            (mine,), (redis_info,) = ours.call("COMMAND", "INFO", name), theirs.call("COMMAND", "INFO", name)
            if redis_info is None:
                continue
            fields = [i for i in range(1, 9) if i != COMMAND_INFO_EXCEPTIONS.get(name)]
            if [mine[i] for i in fields] != [redis_info[i] for i in fields]:
                differ[name] = (mine[1:9], redis_info[1:9])
        assert differ == {}
    finally:
        ours.close()
        theirs.close()


def _info_field_names(port: int) -> dict[str, list[str]]:
    conn = RawConnection(port)
    try:
        reply = conn.call("INFO", "everything")
    finally:
        conn.sock.close()
    assert isinstance(reply, bytes)
    text = reply.decode()
    sections: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("# "):
            names = sections.setdefault(line[2:].strip(), [])
        elif ":" in line:
            names.append(line.split(":", 1)[0])
    return sections


def test_info_has_every_field_of_redis_in_its_order(real_redis: ServerProcess, shared_dragonfly: ServerProcess) -> None:
    """Monitoring tools parse INFO by name: every static field Redis 7.0 prints, in its order."""
    expected, ours = _info_field_names(real_redis.port), _info_field_names(shared_dragonfly.port)
    for section in ("Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Cluster"):
        assert [name for name in ours[section] if name in expected[section]] == expected[section], section


def test_latencystats_lists_each_called_command_as_redis(
    real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    """latency-tracking is on by default: one line per called command, the configured percentiles."""
    lines = []
    for server in (real_redis, shared_dragonfly):
        client = redis.Redis(port=server.port)
        client.config_resetstat()
        client.set("lat:k", "v")
        client.get("lat:k")
        client.client_id()
        client.config_set("latency-tracking-info-percentiles", "50 99.9")
        stats = client.info("latencystats")
        client.config_set("latency-tracking-info-percentiles", "50 99 99.9")
        lines.append({name: sorted(values) for name, values in stats.items()})
        assert all(0 < value < 1_000_000 for values in stats.values() for value in values.values())
    assert lines[1] == lines[0]


# -- generated scripts ---------------------------------------------------------------------------
KEYS = ["k1", "k2", "k3"]
MEMBERS = ["a", "b", "c", "1", "2", "10", ""]
NUMBERS = ["0", "1", "-1", "2", "5", "-3", "100", "1.5", "abc", "inf", "-inf", "(1", "(2"]


def _generators(rng: random.Random) -> dict[str, list]:
    k = lambda: rng.choice(KEYS)  # noqa: E731
    m = lambda: rng.choice(MEMBERS)  # noqa: E731
    n = lambda: rng.choice(NUMBERS)  # noqa: E731
    i = lambda: str(rng.randint(-4, 4))  # noqa: E731
    return {
        "strings": [
            lambda: f"SET {k()} {m() or 'x'}",
            lambda: f"GET {k()}",
            lambda: f"APPEND {k()} {m() or 'y'}",
            lambda: f"INCRBY {k()} {n()}",
            lambda: f"GETRANGE {k()} {i()} {i()}",
            lambda: f"SETRANGE {k()} {rng.randint(0, 5)} {m() or 'z'}",
            lambda: f"STRLEN {k()}",
            lambda: f"GETDEL {k()}",
            lambda: f"MSETNX {k()} 1 {k()} 2",
            lambda: f"DEL {k()}",
            lambda: f"EXISTS {k()} {k()}",
            lambda: f"TYPE {k()}",
        ],
        "lists": [
            lambda: f"LPUSH {k()} {m() or 'v'} {m() or 'w'}",
            lambda: f"RPUSH {k()} {m() or 'v'}",
            lambda: f"LPOP {k()}",
            lambda: f"RPOP {k()} {rng.randint(0, 3)}",
            lambda: f"LRANGE {k()} {i()} {i()}",
            lambda: f"LINDEX {k()} {i()}",
            lambda: f"LTRIM {k()} {i()} {i()}",
            lambda: f"LREM {k()} {i()} {m() or 'v'}",
            lambda: f"LINSERT {k()} BEFORE {m() or 'v'} x",
            lambda: f"LLEN {k()}",
            lambda: f"LMOVE {k()} {k()} LEFT RIGHT",
            lambda: f"LPOS {k()} {m() or 'v'} RANK {rng.choice(['1', '-1', '2'])} COUNT {rng.randint(0, 2)}",
            lambda: f"LSET {k()} {i()} q",
        ],
        "hashes": [
            lambda: f"HSET {k()} {m() or 'f'} {m() or 'v'}",
            lambda: f"HDEL {k()} {m() or 'f'}",
            lambda: f"HGET {k()} {m() or 'f'}",
            lambda: f"HINCRBY {k()} {m() or 'f'} {n()}",
            lambda: f"HGETALL {k()}",
            lambda: f"HLEN {k()}",
            lambda: f"HMGET {k()} a b",
            lambda: f"HSETNX {k()} {m() or 'f'} v",
            lambda: f"HSTRLEN {k()} {m() or 'f'}",
        ],
        "sets": [
            lambda: f"SADD {k()} {m() or 's'} {m() or 't'}",
            lambda: f"SREM {k()} {m() or 's'}",
            lambda: f"SISMEMBER {k()} {m() or 's'}",
            lambda: f"SCARD {k()}",
            lambda: f"~SMEMBERS {k()}",
            lambda: f"~SINTER {k()} {k()}",
            lambda: f"~SUNION {k()} {k()}",
            lambda: f"~SDIFF {k()} {k()}",
            lambda: f"SINTERSTORE {k()} {k()} {k()}",
            lambda: f"SMOVE {k()} {k()} {m() or 's'}",
            lambda: f"SMISMEMBER {k()} a b",
        ],
        "zsets": [
            lambda: f"ZADD {k()} {rng.choice(['', 'NX', 'XX', 'GT', 'LT', 'CH'])} {n()} {m() or 'z'}",
            lambda: f"ZINCRBY {k()} {n()} {m() or 'z'}",
            lambda: f"ZREM {k()} {m() or 'z'}",
            lambda: f"ZRANGE {k()} {i()} {i()} WITHSCORES",
            lambda: f"ZRANGEBYSCORE {k()} {n()} {n()} WITHSCORES",
            lambda: f"ZCOUNT {k()} {n()} {n()}",
            lambda: f"ZRANK {k()} {m() or 'z'}",
            lambda: f"ZSCORE {k()} {m() or 'z'}",
            lambda: f"ZPOPMIN {k()} {rng.randint(0, 2)}",
            lambda: f"ZUNIONSTORE {k()} 2 {k()} {k()} AGGREGATE {rng.choice(['SUM', 'MIN', 'MAX'])}",
            lambda: f"ZINTER 2 {k()} {k()} WITHSCORES",
            lambda: f"ZREMRANGEBYRANK {k()} {i()} {i()}",
            lambda: f"ZCARD {k()}",
        ],
    }


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("family", ["strings", "lists", "hashes", "sets", "zsets"])
def test_generated_scripts_match_redis(
    family: str, seed: int, real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    rng = random.Random(f"{family}-{seed}")
    makers = _generators(rng)[family]
    lines = [" ".join(rng.choice(makers)().split()) for _ in range(150)]
    _compare(real_redis, shared_dragonfly, lines, resp3=seed % 2 == 1)


def test_unauthenticated_limits_end_with_authentication(
    real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    """Redis holds a client that still has to authenticate to 10 arguments per request; AUTH
    lifts that at once, and so does dropping requirepass for a client that never sent AUTH."""
    wide = RawConnection.encode(["MSET", *(f"k{i}" for i in range(12))])
    replies: list[list[object]] = []
    for server in (real_redis, shared_dragonfly):
        admin = redis.Redis(port=server.port)
        admin.config_set("requirepass", "secret")
        refused, authed, freed = (server.connect() for _ in range(3))
        try:
            refused.send_raw(wide)
            got: list[object] = [_errors_as_text(refused.read()), refused.closed_by_server()]
            got.append(authed.call("AUTH", "secret"))
            authed.send_raw(wide)
            got.append(authed.read())
            got.append(_errors_as_text(freed.call("GET", "k0")))
            admin.config_set("requirepass", "")
            freed.send_raw(wide)
            got.append(freed.read())
            replies.append(got)
        finally:
            admin.config_set("requirepass", "")
            for conn in (refused, authed, freed):
                conn.close()
    assert replies[1] == replies[0]
    assert replies[0][-1] == b"OK"


def _debug_as_allowed(server: ServerProcess) -> list[object]:
    """DEBUG where enable-debug-command leaves it: alone, behind a password, inside MULTI."""
    conn = server.connect()
    try:
        got = [conn.call("DEBUG", "SLEEP", "0"), conn.call("DEBUG"), conn.call("DEBUG", "NOSUCH")]
        got += [conn.call("MULTI"), conn.call("DEBUG", "SLEEP", "0"), conn.call("EXEC")]
        info = redis.Redis(port=server.port).info("commandstats")
        got.append({name: stats["rejected_calls"] for name, stats in info.items() if name.startswith("cmdstat_debug")})
        redis.Redis(port=server.port).config_set("requirepass", "pw")
        try:
            got.append(server.connect().call("DEBUG", "SLEEP", "0"))  # refused before NOAUTH
        finally:
            redis.Redis(port=server.port, password="pw").config_set("requirepass", "")
        return [str(reply) if isinstance(reply, Exception) else reply for reply in got]
    finally:
        conn.close()


@pytest.mark.parametrize("allowed", ["no", "local", "yes"])
def test_debug_runs_only_where_enable_debug_command_allows_it(tmp_path: Any, allowed: str) -> None:
    flags = ("--enable-debug-command", allowed)
    redis_dir, ours_dir = tmp_path / "redis", tmp_path / "ours"
    redis_dir.mkdir()
    ours_dir.mkdir()
    theirs, ours = start_redis(redis_dir, *flags), None
    try:
        ours = start_dragonfly(ours_dir, *flags)
        expected = _debug_as_allowed(theirs)
        assert _debug_as_allowed(ours) == expected
        assert (expected[0] == b"OK") == (allowed != "no")  # the loopback is local
    finally:
        theirs.stop()
        if ours is not None:
            ours.stop()


# Reads that hold one command many times, which the server may run as one call (Command.many),
# and reads of the same command that must run one by one: each inner list is sent as one write.
ONE_COMMAND_READS: list[list[str]] = [
    [f"SET k{i} v{i}" for i in range(16)],
    [f"GET k{i}" for i in range(20)],  # 4 misses
    ["SET d 1", "SET d 2", "SET d 3"],  # the last one wins
    ["GET d", "GET d"],
    ["LPUSH l x"],
    ["GET k1", "GET l", "GET k2"],  # WRONGTYPE in the middle
    ["SET t v EX 100"],
    ["GET t", "GET k1"],  # a key with a TTL
    ["SET t w", "SET k3 z"],  # clears t's TTL
    ["TTL t"],
    ["SET e v PX 1"],
    ["GET e", "GET k1"],  # an expired key (the run waits 10 ms before this read)
    ["SET big " + "x" * 2000],
    ["GET big", "GET k1"],  # a reply of 1 KB or more
    ["GET k1 k2", "GET k1"],  # wrong arity in the middle
    ["SET k1", "SET k2 v"],
    ["SET k1 v1 NX", "SET k2 w"],  # options
    ["SET p1 a", "SET p2 b", "SET p1 c NX", "SET p3 d"],  # options after SETs of the run
    ["SET p1 x", "SET p1 y", "SET p2", "SET p3 e"],  # wrong arity after SETs of the run
    ["GET p1", "GET p2", "GET p3"],
    ["GET k1", "get k2", "GET k3"],  # not the same name
    ["GET nope", "GET nope2"],
    # Other commands, run one by one without run()'s bookkeeping (ClientConnection.call_each)
    ["LPUSH q a", "LPUSH q b c", "LPUSH q d"],
    ["RPUSH q e", "RPUSH q f"],
    ["RPUSH tk a", "RPUSH tl a b"],
    ["EXPIRE tk 100", "PEXPIRE tl 1"],
    ["RPUSH tk b", "RPUSH tk c"],  # a list with a TTL keeps it
    ["RPUSH tl c", "RPUSH tl d"],  # an expired list (the run waits 10 ms before this read)
    ["LPUSH k1 x", "LPUSH q y", "LPUSH k1 z"],  # WRONGTYPE, twice
    ["LPUSH k1 x", "LPUSH k1 y"],  # one key, of another type
    ["LPUSH nq a", "LPUSH nq b", "LPUSH nq c"],  # one key, new
    ["RPUSH nr a", "RPUSH nr b", "RPUSH nq d"],
    ["RPUSH nr c", "RPUSH nr d"],  # one key, there
    ["LRANGE nq 0 -1", "LRANGE nr 0 -1"],
    ["LRANGE q 0 -1", "LRANGE nolist 0 -1", "LRANGE q 0 0"],
    ["RPUSH lr " + " ".join(f"e{i:02}" for i in range(40)), "RPUSH lm a bb " + "c" * 1100 + " dd"],
    ["LRANGE lr 0 19", "LRANGE lr -5 -1", "LRANGE lr 30 99", "LRANGE lr 5 2", "LRANGE lr 50 60"],  # ranges
    ["LRANGE lm 0 -1", "LRANGE lr 0 -1", "LRANGE lr -100 2"],  # mixed lengths, 1 KB or more; one length
    ["LRANGE lr 0 x", "LRANGE lr 0 1"],  # not an integer
    ["LRANGE nolist x 1", "LRANGE lr 0 1"],  # not an integer, on a missing key
    ["LRANGE lr 0 1", "LRANGE k1 0 1", "LRANGE lr 0 1"],  # WRONGTYPE in the middle
    ["LRANGE lr 0 1", "LRANGE lr 0"],  # wrong arity
    ["RPUSH lt a b", "RPUSH lx a b"],
    ["EXPIRE lt 100", "PEXPIRE lx 1"],
    ["LRANGE lt 0 -1", "LRANGE lr 0 0"],  # a list with a TTL
    ["LRANGE lx 0 -1", "LRANGE lr 0 0"],  # an expired list (the run waits 10 ms before this read)
    ["LRANGE 00 0 1", "LRANGE lr 00 01", "LRANGE lr -0 1"],  # integers spelled otherwise
    ["LPOP q", "LPOP q 2", "LPOP nolist", "LPOP q"],
    ["RPUSH pq a b c d e", "RPUSH pq2 x y z"],
    ["LPOP pq", "LPOP pq2", "LPOP pq"],
    ["RPOP pq2", "RPOP pq2"],  # empties pq2
    ["EXISTS pq2", "LLEN pq"],
    ["LPOP nolist", "LPOP nolist2", "LPOP nolist"],
    ["LPOP pq", "LPOP nolist"],  # one missing among others
    ["LPOP pq", "LPOP k1"],  # WRONGTYPE
    ["LPOP k1", "LPOP k1"],  # one key, of another type
    ["LPOP nolist", "LPOP nolist"],  # one key, missing
    ["RPUSH lp1 a b c"],
    ["LPOP lp1", "LPOP lp1"],  # one key
    ["RPOP lp1", "RPOP lp1"],  # one key, one element short
    ["RPUSH lp1 " + "y" * 1500 + " z"],
    ["LPOP lp1", "LPOP lp1"],  # one key, an element of 1 KB or more, emptied
    ["EXISTS lp1"],
    ["RPOP pq", "RPOP pq", "RPOP pq"],  # runs out
    ["RPOP q", "RPOP nolist", "RPOP q 0"],
    ["INCR c", "INCR c2", "INCR c", "INCR 007"],
    ["SET neg -5", "SET near 9223372036854775806", "SET zero 0", "SET lead 01"],
    ["INCR neg", "INCR zero", "INCR neg"],  # a negative value
    ["INCR near", "INCR near"],  # the second overflows
    ["INCR zero", "INCR lead"],  # a leading zero: not an integer
    ["SET ce 5 PX 1", "SET ct 5 EX 100"],
    ["INCR ct", "INCR ct"],  # a counter with a TTL keeps it
    ["INCR ce", "INCR ce"],  # an expired counter (the run waits 10 ms before this read)
    ["TTL ct"],
    ["INCR c", "INCR c", "INCR k1", "INCR c"],  # not an integer in the middle
    ["INCR c", "INCR c3", "INCR q"],  # a list at the end
    ["INCR c", "INCR c c"],  # wrong arity
    ["SADD s a", "SADD s a b", "SADD s c"],
    ["SADD sn a", "SADD sn b c", "SADD sn2 a", "SADD sn a"],  # new keys; one that adds nothing
    ["SADD sn e f g", "SADD sn e", "SADD sn h h"],  # as many changes as members added
    ["SADD st a", "SADD sx a"],
    ["EXPIRE st 100", "PEXPIRE sx 1"],
    ["SADD st b", "SADD st c"],  # a set with a TTL keeps it
    ["SADD sx b", "SADD sx c"],  # an expired set (the run waits 10 ms before this read)
    ["SCARD sx", "SISMEMBER sx a", "TTL st"],  # sx lost a with its TTL
    ["SADD sn d", "SADD sn"],  # wrong arity
    ["SADD one x", "SADD k1 y"],
    ["SADD s1m a", "SADD s1m b", "SADD s1m a", "SADD s1m c"],  # one key, new; a member twice
    ["SADD s1m c", "SADD s1m d", "SADD s1m d"],  # one key, there
    ["SADD k1 x", "SADD k1 y"],  # one key, of another type
    ["SPOP one", "SPOP one", "SPOP nos"],
    ["SPOP nos", "SPOP nos2", "SPOP nos"],  # every key missing
    ["SADD s1 a", "SADD s2 b"],
    ["SPOP s1", "SPOP s2"],  # a member each: the shortest set runs out
    ["SPOP sn2", "SPOP k1"],  # WRONGTYPE
    ["HSET h f v", "HSET h f w g x", "HSET h g"],  # wrong arity at the end
    ["HSET h f v", "HSET h g y"],
    ["HSET h2 a 1", "HSET h2 b 2 c 3", "HSET h2 a 9"],
    ["HSET h2 a 1", "HSET k1 f v"],  # WRONGTYPE
    ["HSET h1f a 1", "HSET h1f b 2", "HSET h1f a 3"],  # one key, new; a field twice
    ["HSET h1f b 4", "HSET h1f c 5"],  # one key, there
    ["HSET k1 f v", "HSET k1 g w"],  # one key, of another type
    ["HGETALL h1f", "SCARD s1m", "SISMEMBER s1m d"],
    ["HSET h2 a 1", "HSET h2 b 2 c"],  # wrong arity
    ["HSET ht a 1", "HSET hx a 1"],
    ["EXPIRE ht 100", "PEXPIRE hx 1"],
    ["HSET ht b 2", "HSET ht c 3"],  # a hash with a TTL keeps it
    ["HSET hx b 2", "HSET hx c 3"],  # an expired hash (the run waits 10 ms before this read)
    ["HGETALL hx", "TTL ht"],
    ["ZADD z 1 a", "ZADD z 2 b 3 c", "ZADD z XX 5 a", "ZADD z 1"],
    ["ZADD z 1 a", "ZADD z GT 7 a"],
    ["ZPOPMIN z", "ZPOPMIN z 2", "ZPOPMIN noz", "ZPOPMIN noz"],
    ["ZADD zz 1 a 2 b 3 c 4 d"],
    ["ZPOPMIN zz", "ZPOPMIN zz"],
    ["ZPOPMAX zz", "ZPOPMAX zz"],  # empties zz
    ["EXISTS zz", "ZADD zz 5 e 6 f"],
    ["ZPOPMIN nozz", "ZPOPMIN nozz2", "ZPOPMIN nozz"],
    ["ZPOPMIN zz", "ZPOPMIN nozz"],  # one missing among others
    ["ZPOPMAX zz", "ZPOPMAX zz", "ZPOPMAX zz"],  # runs out
    ["ZPOPMIN k1", "ZPOPMIN zz"],  # WRONGTYPE
    ["ZPOPMIN k1", "ZPOPMIN k1"],  # one key, of another type
    ["ZPOPMIN nozz", "ZPOPMIN nozz"],  # one key, missing
    ["ZADD zs 1 a", "ZADD zs 2 b", "ZADD zs 1 a", "ZADD zs 3 a"],  # new, new, unchanged, moved
    ["ZADD zs 2 c", "ZADD zs 2.5 b", "ZADD zs -inf d", "ZADD zs2 1 x"],  # ties, floats, a new key
    ["ZADD zs NX 1", "ZADD zs 5 e"],  # an option where the score goes: ZADD itself
    ["ZADD zs abc m", "ZADD zs 1 m"],  # not a float
    ["ZADD zs 1 m", "ZADD k1 1 m"],  # WRONGTYPE
    ["ZADD k1 1 a", "ZADD k1 2 b"],  # one key, of another type
    ["ZADD zn 1 a", "ZADD zn x b"],  # one key, new; not a float at the end
    ["ZADD zn 2 a", "ZADD zn 2 a", "ZADD zn 3 c"],  # one key, there; a score unchanged
    ["ZRANGE zn 0 -1 WITHSCORES"],
    ["ZADD zd 007 a", "ZADD zd 1 a", "ZADD zd 1 b", "ZADD zd 1 a", "ZADD zd 3 b"],  # one key, digits only
    ["ZADD zd 5 c", "ZADD zd " + "9" * 309 + " d"],  # 309 digits overflow a double: ZADD's error
    ["ZADD zd 4 e", "ZADD zd2 2 a", "ZADD zd 0 a"],  # digits only, two keys
    ["ZRANGE zd 0 -1 WITHSCORES", "ZRANGE zd2 0 -1 WITHSCORES"],
    ["EXPIRE zs2 100", "ZADD zs2 7 y", "ZADD zs 7 y"],
    ["ZADD zs2 8 y", "ZADD zs2 9 z"],  # a sorted set with a TTL keeps it
    ["ZRANGE zs 0 -1 WITHSCORES", "ZRANGE zs2 0 -1 WITHSCORES", "TTL zs2"],
    ["SET b1 1021", "SET b2 1023", "SET b3 0"],
    ["INCR b1", "INCR b1", "INCR b1", "INCR b2", "INCR b3"],  # across the table of small counts' end
    ["INCR b3", "INCR s", "INCR b3"],  # a set in the middle (unhashable): undone, then one by one
    ["INCR b3", "INCR h2", "INCR b3"],  # a hash
    ["INCR b3", "INCR zs", "INCR b3"],  # a sorted set
    ["GET b1", "GET b2", "GET b3"],
    ["MSET m1 1 m2 2", "MSET m3 3"],
    ["MSET m1 a m1 b", "MSET m2 c m4 d m1 e"],  # a key twice: the last pair wins
    ["SET mt v EX 100", "LPUSH ml x"],
    ["MSET mt w ml y", "MSET m5 f"],  # drops mt's TTL; overwrites a list
    ["TTL mt", "TYPE ml", "GET ml"],
    ["MSET m6 1 m7 2", "MSET m6 9 m8", "MSET m9 3"],  # a key short of its value, after a pair
    ["MSET m6 1", "MSET"],  # wrong arity at the end
    ["MGET m1 m2 m4 m5 m6 m7 m8 m9"],
    ["PING", "PING"],
    ["ECHO a", "ECHO b"],
]


def _one_command_reads(server: ServerProcess, resp3: bool) -> tuple[list[object], tuple[int, ...]]:
    """The replies to ONE_COMMAND_READS in db 11, and how far they moved the counters that GET
    and SET move."""
    conn = server.connect()
    stats = redis.Redis(port=server.port)
    try:
        conn.call("SELECT", "11")
        conn.call("FLUSHDB")
        if resp3:
            conn.call("HELLO", "3")
        before = stats.info("all")
        replies: list[object] = []
        for read in ONE_COMMAND_READS:
            if read[0] in ("GET e", "RPUSH tl c", "INCR ce", "HSET hx b 2", "SADD sx b", "LRANGE lx 0 -1"):
                time.sleep(0.01)  # the key has expired
            conn.send_raw(b"".join(conn.encode(shlex.split(line)) for line in read))
            replies += [_errors_as_text(conn.read()) for _ in read]
        after = stats.info("all")
        conn.call("FLUSHDB")
    finally:
        conn.close()
        stats.close()
    counters = [("keyspace_hits",), ("keyspace_misses",), ("expired_keys",), ("rdb_changes_since_last_save",)]
    counters += [("cmdstat_get", "calls"), ("cmdstat_set", "calls")]
    squashed = ("lpush", "lpop", "incr", "hset", "zadd", "zpopmin", "sadd", "spop", "mset", "lrange")
    counters += [(f"cmdstat_{name}", "calls") for name in squashed]
    counters += [("cmdstat_lpush", "failed_calls"), ("cmdstat_incr", "failed_calls")]
    counters += [("errorstat_WRONGTYPE", "count"), ("errorstat_ERR", "count"), ("total_error_replies",)]
    moved = tuple(_counter(after, c) - _counter(before, c) for c in counters)
    return replies, moved


def _counter(info: dict[str, Any], path: tuple[str, ...]) -> int:
    value: Any = info.get(path[0], {} if len(path) > 1 else 0)
    return int(value.get(path[1], 0) if len(path) > 1 else value)


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_reads_of_one_command_match_redis(
    resp3: bool, real_redis: ServerProcess, shared_dragonfly: ServerProcess
) -> None:
    assert _one_command_reads(shared_dragonfly, resp3) == _one_command_reads(real_redis, resp3)


@pytest.fixture(params=["redis", "ours"])
def server(request: pytest.FixtureRequest, real_redis: ServerProcess, shared_dragonfly: ServerProcess) -> ServerProcess:
    """Each of the two servers in turn, for a test that checks what both give on its own."""
    return real_redis if request.param == "redis" else shared_dragonfly


def test_a_read_of_spops_of_one_set_pops_each_member_once(server: ServerProcess) -> None:
    """SPOP's members come in random order, so this read is checked for what both servers give."""
    conn = server.connect()
    try:
        conn.call("DEL", "spop:s", "spop:t")
        conn.call("SADD", "spop:s", "a", "b", "c", "d")
        conn.call("SADD", "spop:t", "a", "b")
        conn.call("EXISTS", "spop:s")  # after a data command, as in a busy client (see below)
        conn.send_raw(b"".join(conn.encode(["SPOP", "spop:s"]) for _ in range(3)))
        popped = [conn.read() for _ in range(3)]
        assert len(set(popped)) == 3 and sorted(popped + conn.call("SMEMBERS", "spop:s")) == [b"a", b"b", b"c", b"d"]
        conn.send_raw(b"".join(conn.encode(["SPOP", "spop:t"]) for _ in range(2)))
        assert sorted(conn.read() for _ in range(2)) == [b"a", b"b"]
        assert conn.call("EXISTS", "spop:t") == 0  # emptied: gone
    finally:
        conn.close()


def test_a_read_of_pushes_serves_a_blocked_pop_between_them(server: ServerProcess) -> None:
    waiter, writer, stats = server.connect(), server.connect(), redis.Redis(port=server.port)
    try:
        writer.call("DEL", "blocked:q")
        waiter.send_raw(waiter.encode(["BLPOP", "blocked:q", "5"]))
        wait_for(lambda: stats.info("clients")["blocked_clients"] == 1, timeout=5)
        # After a data command, as in a busy client: ours then runs a read of one command many
        # times without its general loop (ClientConnection.call_each).
        assert writer.call("EXISTS", "blocked:q") == 0
        writer.send_raw(b"".join(writer.encode(["LPUSH", "blocked:q", v]) for v in "abc"))
        # The waiter takes a before the second push: each push finds the list it left.
        assert [writer.read() for _ in range(3)] == [1, 1, 2]
        assert waiter.read() == [b"blocked:q", b"a"]
    finally:
        waiter.close()
        writer.close()
        stats.close()


# Writes that a read of one command many times may run in one call (Command.many).
SQUASHED_WRITES = [["SET", "{key}", "v"], ["LPUSH", "{key}", "v"], ["INCR", "{key}"]]


def _squashed_writes_seen(
    server: ServerProcess, write: list[str], prefix: str, observe: Callable[[Any], None], check: Callable[[Any], None]
) -> None:
    """observe(observer) on keys prefix:a, :b, :k; then one read of write on each from another
    client; then check(observer)."""
    observer, writer = server.connect(), server.connect()
    try:
        writer.call("DEL", *(f"{prefix}:{k}" for k in "abk"))
        observe(observer)
        # A data command after the observer's (which may change what it depends on) lets ours
        # run the writer's next read of one command many times as one call.
        writer.call("EXISTS", f"{prefix}:a")
        writer.send_raw(b"".join(writer.encode([a.format(key=f"{prefix}:{k}") for a in write]) for k in "abk"))
        assert not any(isinstance(writer.read(), Exception) for _ in range(3))
        check(observer)
    finally:
        observer.close()
        writer.close()


@pytest.mark.parametrize("write", SQUASHED_WRITES, ids=lambda w: w[0])
def test_a_read_of_writes_touches_watched_keys(server: ServerProcess, write: list[str]) -> None:
    def aborted(watcher: Any) -> None:
        assert watcher.call("MULTI") == b"OK"
        assert watcher.call("SET", "watched:k", "mine") == b"QUEUED"
        assert watcher.call("EXEC") is None  # the pipeline touched the key

    _squashed_writes_seen(server, write, "watched", lambda watcher: watcher.call("WATCH", "watched:k"), aborted)


@pytest.mark.parametrize("write", SQUASHED_WRITES, ids=lambda w: w[0])
def test_a_read_of_writes_invalidates_tracked_keys(server: ServerProcess, write: list[str]) -> None:
    def track(tracker: Any) -> None:
        tracker.call("HELLO", "3")
        assert tracker.call("CLIENT", "TRACKING", "ON") == b"OK"
        tracker.call("GET", "tracked:k")

    def invalidated(tracker: Any) -> None:
        assert list(tracker.read()) == [b"invalidate", [b"tracked:k"]]

    _squashed_writes_seen(server, write, "tracked", track, invalidated)


def test_config_resetstat_counts_its_own_reply_anew(server: ServerProcess) -> None:
    """The reply to CONFIG RESETSTAT goes out after the reset, so the new counters hold it."""
    conn = server.connect()
    try:
        conn.call("PING")
        assert conn.call("CONFIG", "RESETSTAT") == b"OK"
        stats = dict(line.split(":", 1) for line in conn.call("INFO", "stats").decode().split("\r\n") if ":" in line)
        assert (stats["total_net_input_bytes"], stats["total_net_output_bytes"]) == ("25", "5")  # INFO stats; +OK
    finally:
        conn.close()
