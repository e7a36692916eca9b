/*
 * lunet_main.c - the `lunet` launcher: a Lua 5.4 interpreter whose module
 * paths find lunet next to the executable, wherever it is started from.
 *
 *   lunet script.lua [args...]   run a script (args in `arg` and `...`)
 *   lunet -e "code"              run code (`lunet` is preloaded as a global)
 *   lunet -i                     interactive prompt (also with no arguments)
 *   lunet -                      run standard input as a script
 *   lunet --version              print versions and exit
 *
 * LUNET_LUA_DIR and LUNET_C_DIR are set at build time, relative to the
 * directory of the executable (the build tree and an install differ).
 */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/linalg.h"

#ifndef LUNET_LUA_DIR
#define LUNET_LUA_DIR "../bindings"
#endif
#ifndef LUNET_C_DIR
#define LUNET_C_DIR "lib"
#endif

static const char *progname = "lunet";
static lua_State *globalL = NULL;

/* ---- Ctrl-C interrupts the running chunk (as lua.c does) ------------------ */

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void laction(int i)
{
    signal(i, SIG_DFL);
    lua_sethook(globalL, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    globalL = L;
    signal(SIGINT, laction);
    int status = lua_pcall(L, narg, nres, base);
    signal(SIGINT, SIG_DFL);
    lua_remove(L, base);
    return status;
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        fflush(stdout); /* keep the order of what was printed before */
        const char *msg = lua_tostring(L, -1);
        /* under lunet.distributed (its hook, LT_ABORT_HOOK in lt.h): the
         * message with the rank, then MPI_Abort, before anything finalizes */
        lua_getfield(L, LUA_REGISTRYINDEX, "lunet.abort_hook");
        if (lua_iscfunction(L, -1)) {
            lua_pushstring(L, msg ? msg : "(error object is not a string)");
            lua_pcall(L, 1, 0, 0); /* returns only when MPI is not running */
        } else {
            lua_pop(L, 1);
        }
        fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

/* ---- module paths ----------------------------------------------------------- */

static void exe_dir(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0) {
        snprintf(buf, n, ".");
        return;
    }
    buf[len] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
}

static void set_paths(lua_State *L)
{
    char dir[4096];
    exe_dir(dir, sizeof dir);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/" LUNET_LUA_DIR "/?.lua;%s/" LUNET_LUA_DIR "/?/init.lua;%s", dir, dir,
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
    lua_getfield(L, -1, "cpath");
    lua_pushfstring(L, "%s/" LUNET_C_DIR "/?.so;%s", dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "cpath");
    lua_pop(L, 2);
}

static int preload_lunet(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lunet");
    int st = docall(L, 1, 1);
    if (st != LUA_OK) return report(L, st);
    lua_setglobal(L, "lunet");
    return LUA_OK;
}

/* ---- the interactive prompt -------------------------------------------------- */

static int read_line(lua_State *L, const char *prompt, int tty)
{
    if (tty) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[4096];
    int got = 0;
    while (fgets(chunk, sizeof chunk, stdin) != NULL) {
        got = 1;
        size_t len = strlen(chunk);
        int done = len > 0 && chunk[len - 1] == '\n';
        if (done) chunk[--len] = '\0';
        luaL_addlstring(&b, chunk, len);
        if (done) break;
    }
    luaL_pushresult(&b);
    if (!got) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

static int incomplete(lua_State *L, int status)
{
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        const char *eof = "<eof>";
        size_t le = strlen(eof);
        if (lmsg >= le && strcmp(msg + lmsg - le, eof) == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

/* Compile the line at the top as "return <line>", else as statements,
 * reading continuation lines while the chunk is incomplete. */
static int load_line(lua_State *L, int tty)
{
    const char *line = lua_tostring(L, -1);
    const char *ret = lua_pushfstring(L, "return %s", line);
    if (luaL_loadbuffer(L, ret, strlen(ret), "=stdin") == LUA_OK) {
        lua_remove(L, -2); /* the "return" text */
        lua_remove(L, -2); /* the line */
        return LUA_OK;
    }
    lua_pop(L, 2);
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, -1, &len);
        int status = luaL_loadbuffer(L, code, len, "=stdin");
        if (!incomplete(L, status)) {
            lua_remove(L, -2);
            return status;
        }
        if (!read_line(L, ">> ", tty)) return -1;
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0) return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
        fprintf(stderr, "%s: error calling 'print' (%s)\n", progname, lua_tostring(L, -1));
}

static void repl(lua_State *L)
{
    int tty = isatty(STDIN_FILENO);
    if (tty) {
        lua_getglobal(L, "lunet");
        lua_getfield(L, -1, "version");
        printf("lunet %s (%s) -- `lunet` is loaded; Ctrl-D exits\n", lua_tostring(L, -1),
               LUA_RELEASE);
        lua_pop(L, 2);
    }
    lua_settop(L, 0);
    while (read_line(L, "> ", tty)) {
        int status = load_line(L, tty);
        if (status == -1) break;
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L);
        else report(L, status);
        lua_settop(L, 0);
    }
    if (tty) fputs("\n", stdout);
    fflush(stdout);
}

/* ---- main ----------------------------------------------------------------------- */

static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, const char *fname, int nargs_start, int argc, char **argv)
{
    int status = luaL_loadfile(L, strcmp(fname, "-") == 0 ? NULL : fname);
    if (status == LUA_OK) {
        int n = 0;
        for (int i = nargs_start; i < argc; i++, n++) lua_pushstring(L, argv[i]);
        status = docall(L, n, 0);
    }
    return report(L, status);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "  -e code    run code (lunet is preloaded as a global)\n"
            "  -i         enter the interactive prompt after running what precedes\n"
            "  -          run standard input as a script\n"
            "  --version  print the versions and exit\n"
            "  --         stop handling options\n",
            progname);
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    luaL_openlibs(L);
    set_paths(L);

    int script = 0, interactive = 0, ran = 0, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc) script = i + 1;
            break;
        }
        if (strcmp(a, "-") == 0) {
            script = i;
            break;
        }
        if (a[0] != '-') {
            script = i;
            break;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            lua_getglobal(L, "require");
            lua_pushliteral(L, "lunet.core");
            if (report(L, docall(L, 1, 1)) != LUA_OK) return 0;
            lua_getfield(L, -1, "config");
            lua_call(L, 0, 1);
            lua_getfield(L, -1, "version");
            lua_getfield(L, -2, "blas_core");
            printf("lunet %s (%s, OpenBLAS %s)\n", lua_tostring(L, -2), LUA_RELEASE,
                   lua_tostring(L, -1));
            lua_pushboolean(L, 1);
            return 1;
        } else if (strcmp(a, "-i") == 0) {
            interactive = 1;
        } else if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) {
                usage();
                return 0;
            }
            if (preload_lunet(L) != LUA_OK) return 0;
            const char *code = argv[++i];
            int st = luaL_loadbuffer(L, code, strlen(code), "=(command line)");
            if (st == LUA_OK) st = docall(L, 0, 0);
            if (report(L, st) != LUA_OK) return 0;
            ran = 1;
        } else {
            usage();
            return 0;
        }
    }
    create_arg_table(L, argv, argc, script);
    if (script) {
        if (run_script(L, argv[script], script + 1, argc, argv) != LUA_OK) return 0;
        ran = 1;
    }
    if (interactive || !ran) {
        if (preload_lunet(L) != LUA_OK) return 0;
        repl(L);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- OpenBLAS's thread pool under an address-space limit -------------------
 *
 * OpenBLAS starts its pool in a constructor, as soon as lunet.core is
 * loaded, sized by OPENBLAS_NUM_THREADS (else GOTO_NUM_THREADS, else
 * OMP_NUM_THREADS, else the online CPUs).  Under `ulimit -v` too tight for
 * the pool's buffers its threads retry mmap forever and exit hangs joining
 * them (see ln_blas_threads_that_fit).  So before anything is loaded, cap
 * the pool to what fits; one thread always does. */
static long env_threads(const char *name)
{
    const char *e = getenv(name);
    long v = e ? strtol(e, NULL, 10) : 0;
    return v > 0 ? v : 0;
}

static void fit_blas_pool(void)
{
    int fit = ln_blas_threads_that_fit();
    if (fit == INT_MAX) return;
    long want = env_threads("OPENBLAS_NUM_THREADS");
    if (!want) want = env_threads("GOTO_NUM_THREADS");
    if (!want) want = env_threads("OMP_NUM_THREADS");
    if (!want) want = sysconf(_SC_NPROCESSORS_ONLN);
    if (want <= fit) return;
    char buf[24];
    snprintf(buf, sizeof buf, "%d", fit);
    setenv("OPENBLAS_NUM_THREADS", buf, 1);
}

int main(int argc, char **argv)
{
    fit_blas_pool();
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return EXIT_FAILURE;
    }
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int ok = lua_toboolean(L, -1);
    report(L, status);
    lua_close(L);
    return (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
