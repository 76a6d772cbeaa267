/*
 * nubes-landlock: runs a command confined by Landlock (Linux 6.12+, ABI 6), the Slurm executor's light
 * sandbox of a job's script on a compute node. It costs one exec where bubblewrap makes and tears down
 * mount, pid, ipc and uts namespaces, and needs no privilege or user namespace.
 *
 *   nubes-landlock [--status-fd N] [--hide PATH]... [--read PATH]... [--write PATH]... -- COMMAND [ARG]...
 *   nubes-landlock --probe
 *
 * What the command (and everything it starts) may do:
 * - read and execute anything but the hidden paths and what lies below them;
 * - read, write and use (ioctl) the node's devices under /dev (a GPU that Slurm's cgroup gives it), but not
 *   create or remove files there;
 * - read (--read) and also write, create and remove (--write) below the paths given, hidden or not;
 * - nothing else: every other write is refused;
 * - no signal to, ptrace of or /proc/<pid>/environ read of a process outside its own sandbox, no connection
 *   to an abstract unix socket made outside it (Landlock's scopes); no new privileges; no capabilities.
 * Landlock grants by folder and everything below it, so a folder above a hidden path (`/` among them) is
 * not granted as a whole: its other entries are, one by one, and it cannot be listed itself. Symbolic links
 * are never granted (a path through one is checked where it leads).
 *
 * Exit status: the command's (this process becomes it), or 125 when the sandbox cannot be made. With
 * --status-fd, that case is also written to the file descriptor as one line, `unsupported <why>` (the
 * kernel has no Landlock ABI 6: the caller may use another sandbox) or `error <why>`; the descriptor is
 * closed before the command starts, so an empty status means the command ran. --probe exits 0 when the
 * kernel has what is needed, 125 (with `unsupported <why>` on stderr) when not.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* Landlock's interface (linux/landlock.h), written out: the build machine's headers may be older than the
 * kernel the helper runs on. */
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define LANDLOCK_RULE_PATH_BENEATH 1
#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
/* bits 4-12: remove dir/file, make char/dir/reg/sock/fifo/block/sym; 13: refer (ABI 2) */
#define FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define FS_ALL ((1ULL << 16) - 1)
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */
#define REQUIRED_ABI 6

struct ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

/* Rights a rule on a file (not a folder) may carry. */
#define FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define READ_RIGHTS (FS_READ_FILE | FS_READ_DIR | FS_EXECUTE)
#define DEVICE_RIGHTS (READ_RIGHTS | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define MAX_PATHS 256

static int status_fd = -1;
static int ruleset_fd = -1;
static char *hidden[MAX_PATHS + 1]; /* and /dev, while / is walked */
static size_t hidden_count;

/* Reports why the sandbox cannot be made (stderr, and the status descriptor) and exits 125. */
static void __attribute__((noreturn, format(printf, 2, 3))) give_up(const char *kind, const char *format, ...) {
  char message[PATH_MAX + 256];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  fprintf(stderr, "nubes-landlock: %s\n", message);
  if (status_fd >= 0) dprintf(status_fd, "%s %s\n", kind, message);
  exit(125);
}

/* Adds a rule granting `rights` below the object open at `fd` (a folder, or a file with file rights). */
static void grant_fd(int fd, uint64_t rights, int is_dir, const char *path) {
  struct path_beneath_attr rule = {.allowed_access = rights & (is_dir ? FS_ALL : FILE_RIGHTS), .parent_fd = fd};
  if (rule.allowed_access == 0) return;
  if (syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
    give_up("error", "cannot grant %s: %s", path, strerror(errno));
}

/* Grants `rights` below `path`; a path that does not exist is skipped. */
static void grant_path(const char *path, uint64_t rights) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    give_up("error", "cannot open %s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) give_up("error", "cannot stat %s: %s", path, strerror(errno));
  grant_fd(fd, rights, S_ISDIR(st.st_mode), path);
  close(fd);
}

/* 1 when `path` is hidden, 2 when it is a folder above a hidden path, else 0. */
static int relation_to_hidden(const char *path) {
  size_t length = strlen(path);
  int above = 0;
  for (size_t i = 0; i < hidden_count; i++) {
    if (strcmp(hidden[i], path) == 0) return 1;
    if (length == 1 || (strncmp(hidden[i], path, length) == 0 && hidden[i][length] == '/')) above = 2;
  }
  return above;
}

/* Grants `rights` below every entry of the folder `dir` (a canonical path) but the hidden ones, descending
 * into the folders above hidden paths. */
static void grant_all_but_hidden(const char *dir, uint64_t rights) {
  DIR *folder = opendir(dir);
  if (folder == NULL) give_up("error", "cannot list %s: %s", dir, strerror(errno));
  struct dirent *entry;
  char path[PATH_MAX];
  while ((entry = readdir(folder)) != NULL) {
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || entry->d_type == DT_LNK) continue;
    if (snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) >= (int)sizeof path)
      give_up("error", "a path below %s is too long", dir);
    int relation = relation_to_hidden(path);
    if (relation == 1) continue;
    int fd = openat(dirfd(folder), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue; /* gone since it was listed */
    int is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstat(fd, &st) != 0 || S_ISLNK(st.st_mode)) {
        close(fd);
        continue;
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    if (relation == 2 && is_dir) grant_all_but_hidden(path, rights);
    else grant_fd(fd, rights, is_dir, path);
    close(fd);
  }
  closedir(folder);
}

/* Clears every capability (a job run by root keeps none, as bubblewrap's --cap-drop ALL). */
static void drop_capabilities(void) {
  /* Up to the kernel's last capability (EINVAL past it); without CAP_SETPCAP (EPERM) none can be dropped,
   * and an unprivileged process has none to lose. */
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL || errno == EPERM) break;
    give_up("error", "cannot drop capability %d: %s", cap, strerror(errno));
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) != 0)
    give_up("error", "cannot clear the capabilities: %s", strerror(errno));
}

static long landlock_abi(void) {
  return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

static void require_abi(void) {
  long abi = landlock_abi();
  if (abi < 0)
    give_up("unsupported", "the kernel has no Landlock (%s)", strerror(errno));
  if (abi < REQUIRED_ABI)
    give_up("unsupported", "the kernel's Landlock ABI is %ld, %d is needed (Linux 6.12)", abi, REQUIRED_ABI);
}

static void add_path(char **list, size_t *count, char *path, const char *option) {
  if (path[0] != '/') give_up("error", "%s needs an absolute path: %s", option, path);
  if (*count >= MAX_PATHS) give_up("error", "more than %d paths", MAX_PATHS);
  list[(*count)++] = path;
}

int main(int argc, char **argv) {
  char *reads[MAX_PATHS], *writes[MAX_PATHS], *hides[MAX_PATHS];
  size_t read_count = 0, write_count = 0, hide_count = 0;
  int i = 1;
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) {
    require_abi();
    return 0;
  }
  for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
    const char *option = argv[i];
    if (i + 1 >= argc) give_up("error", "%s needs a value", option);
    char *value = argv[i + 1];
    if (strcmp(option, "--status-fd") == 0) {
      char *end;
      long fd = strtol(value, &end, 10);
      if (*end != '\0' || fd < 3 || fd > 1023) give_up("error", "--status-fd needs a descriptor above 2");
      status_fd = (int)fd;
      if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0) give_up("error", "--status-fd %ld is not open", fd);
    } else if (strcmp(option, "--hide") == 0) {
      add_path(hides, &hide_count, value, option);
    } else if (strcmp(option, "--read") == 0) {
      add_path(reads, &read_count, value, option);
    } else if (strcmp(option, "--write") == 0) {
      add_path(writes, &write_count, value, option);
    } else {
      give_up("error", "unknown option %s", option);
    }
  }
  if (i + 1 >= argc) give_up("error", "no command after --");
  require_abi();

  /* Hidden paths are compared with the canonical paths met while walking down from / (links skipped). */
  for (size_t k = 0; k < hide_count; k++) {
    char *canonical = realpath(hides[k], NULL);
    if (canonical == NULL) {
      if (errno == ENOENT) continue;
      give_up("error", "cannot resolve %s: %s", hides[k], strerror(errno));
    }
    if (strcmp(canonical, "/") == 0) give_up("error", "the sandbox cannot hide /");
    hidden[hidden_count++] = canonical;
  }

  struct ruleset_attr attr = {
      .handled_access_fs = FS_ALL,
      .handled_access_net = 0,
      .scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL,
  };
  ruleset_fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset_fd < 0) give_up("error", "cannot create a Landlock ruleset: %s", strerror(errno));

  /* Everything readable but the hidden paths, /dev apart: its devices also writable. */
  hidden[hidden_count++] = "/dev";
  grant_all_but_hidden("/", READ_RIGHTS);
  hidden_count--;
  if (relation_to_hidden("/dev") == 2) grant_all_but_hidden("/dev", DEVICE_RIGHTS);
  else if (relation_to_hidden("/dev") == 0) grant_path("/dev", DEVICE_RIGHTS);
  for (size_t k = 0; k < read_count; k++) grant_path(reads[k], READ_RIGHTS);
  for (size_t k = 0; k < write_count; k++) grant_path(writes[k], FS_ALL);

  drop_capabilities();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) give_up("error", "cannot set no_new_privs: %s", strerror(errno));
  if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) != 0)
    give_up("error", "cannot enforce the Landlock ruleset: %s", strerror(errno));
  close(ruleset_fd);
  if (status_fd >= 0) close(status_fd);
  status_fd = -1;
  execvp(argv[i + 1], argv + i + 1);
  fprintf(stderr, "nubes-landlock: cannot run %s: %s\n", argv[i + 1], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
