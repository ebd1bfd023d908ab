# %% [markdown]
# # 3.6 Secrets and credentials
#
# The Handbook Assistant calls a model endpoint with an API key. The tutorial way to try an
# endpoint is to paste the key into a notebook cell; the first commit publishes it, and
# deleting the line later does not take it back: git keeps every version of every file.
#
# Here a key leaks into a throwaway repository. You find it with detect-secrets, rewrite the
# history with `git filter-repo`, block the next leak with a hook, keep the key outside the
# code, and redact it from logs.
#
# **Time:** about 50 minutes: 9 to read, 12 to run the code and read its outputs, 25 for
# the three exercises (5, 6 and 14), 4 for the questions. **You need:** git basics (lesson
# 3.1 helps).
#
# ## Learning objectives
# - Scan a repository's history, not only its working tree, for secrets.
# - Answer a leak in order: rotate, rewrite history, re-clone.
# - Block a new secret at commit time with a baseline and a hook.
# - Load a key from the environment, a `.env` file or a keyring, as a value that never prints.
# - Redact keys in log lines without destroying the ids you debug with.
#
# Every key here is fake, built at run time in a real provider's format, and shown only by
# its first six characters.

# %% [markdown]
# ## Setup
#
# `seed` picks the fake keys; `fast` changes nothing here.

# %% tags=["parameters"]
seed = 0
fast = False

# %% [markdown]
# The imports every section uses:

# %%
import pandas as pd

from course_lib.course import answer_or_reference, check, hint  # noqa: F401, RUF100 (hint: when stuck)
from course_lib.labs import (
    course_repository,
    fake_key,
    leaky_repo,
    scan_history,
    scan_tree,
    shown,
)
from course_lib.workdir import work_path

pd.set_option("display.width", 120)

# %% [markdown]
# ## 1. The prototype: a key pasted into a notebook
#
# The scratch repository has three commits: the project; a notebook with the key pasted in;
# and a fix that reads the key from the environment:

# %%
key = fake_key("openai", seed=seed)
repo = leaky_repo(work_path("lesson_3_6", "repo"), key)
print("the key:", shown(key))
print(repo.log())

# %% [markdown]
# The notebook in the working tree is clean now. Is the repository?

# %% [markdown]
# ## 2. Scanning: the working tree and the history
#
# **detect-secrets** (Yelp) runs detectors over each line: known providers' key formats,
# entropy checks for random-looking strings, and keywords such as `password = ...`.
# `detect-secrets scan` scans the files git tracks, as they are now:

# %%
tree = scan_tree(repo)
print(repo.transcript(last=1))
print(f"findings in the working tree: {len(tree)}")

# %% [markdown]
# But every clone holds every commit. `scan_history` runs the same detectors over each file
# that each commit added or changed, on every branch:

# %%
history = pd.DataFrame(scan_history(repo))
print(f"findings in the history: {len(history)}")
history

# %% [markdown]
# Two detectors flag one key in one (commit, file) pair. Anyone with a clone can run
# `git show <commit>:explore.ipynb`.
#
# ### Exercise 3.6.1: A history scan
#
# `secrets_in_history(repo)` returns the set of `(short commit id, path)` pairs where a
# commit adds or changes a file holding a secret. The loops are given: every commit of every
# branch (`--all`), and the files it added or modified (`--root` includes the first commit).
# Write the body: get the file as that commit stored it with `repo.git("show",
# f"{commit}:{path}")`, scan it with `scan_text(text, path)`, and add the pair, the id
# shortened by `repo.git("rev-parse", "--short", commit).strip()`. Stuck? `hint("3.6.1")`.


# %%
def secrets_in_history(repo):
    """{(short commit id, path)} for each commit that adds or changes a file holding a secret."""
    from course_lib.labs import scan_text

    found = set()
    for commit in repo.git("rev-list", "--all").split():
        changed = repo.git(
            "diff-tree", "--root", "-r", "--no-commit-id", "--name-only", "--diff-filter=AM", commit
        )
        for path in changed.splitlines():
            # BEGIN SOLUTION
            if scan_text(repo.git("show", f"{commit}:{path}"), path):
                found.add((repo.git("rev-parse", "--short", commit).strip(), path))
            # END SOLUTION
    return found


# %% [markdown]
# The checker builds a repository of its own, with keys in the first commit, in a file
# deleted later and on an unmerged branch:

# %%
check("3.6.1", secrets_in_history)

# %% [markdown]
# ## 3. After a leak: rotate first, then rewrite history
#
# Rewriting history does not un-publish a key: a teammate pulled it, a CI log may hold it.
# So the order is fixed:
#
# 1. **Rotate**: create a new key, deploy it, revoke the old one. Every copy is now worthless.
# 2. **Check the provider's logs** for use of the old key.
# 3. **Rewrite history**, so the dead key stops tripping scanners.
# 4. **Re-clone**: each teammate deletes their clone and clones again.
# 5. **Block the next one** (section 4).
#
# A teammate cloned the repository before the clean-up:

# %%
from course_lib.labs import clone_of

teammate = clone_of(repo, "teammate")
before = repo.log()

# %% [markdown]
# `git filter-repo --replace-text` rewrites every commit, replacing what matches a regular
# expression in a file kept outside the repository:

# %%
replacements = work_path("lesson_3_6", "replacements.txt")
replacements.write_text("regex:sk-(proj-)?[A-Za-z0-9]{20,}==>[removed]\n", encoding="utf-8")
rewrite = repo.run("git", "filter-repo", "--force", "--replace-text", str(replacements))
print(repo.transcript(last=1), "-> exit code", rewrite.returncode)
print(pd.DataFrame({"before": before.splitlines(), "after": repo.log().splitlines()}))
print(
    "the leaky commit's notebook now says [removed]:",
    "[removed]" in repo.git("show", "HEAD~1:explore.ipynb"),
)

# %% [markdown]
# The leaky commit and every later one get new ids: a commit's id hashes its content and its
# parent's id. (`--force`: filter-repo otherwise rewrites only fresh clones.) Scan both
# repositories:

# %%
my_scan = answer_or_reference("3.6.1", secrets_in_history)
print(f"history scan after filter-repo: {len(scan_history(repo))} findings")
print(f"the teammate's clone: {len(scan_history(teammate))} findings")
print("(commit, file) pairs there:", sorted(my_scan(teammate)))
print("the clone's commits exist upstream:", teammate.head() in repo.log())

# %% [markdown]
# The clone still holds the key, under ids the rewritten repository no longer has. A
# `git pull --no-rebase`, or a push from it, would merge the old history back. A host keeps
# copies too: GitHub serves old commits by id until its support purges them. Rotation comes
# first because you cannot reach every copy.

# %% [markdown]
# ## 4. Block the next one: a baseline and a pre-commit hook
#
# A **baseline** records the findings the team has reviewed (test fixtures, lock-file
# hashes); the check then fails only on new ones. Save it, ignore `.env` files, add a
# pre-commit configuration (a local hook, so nothing is fetched), and commit:

# %%
from course_lib.labs import install_scan_hook, write_baseline

print("findings in the new baseline:", len(write_baseline(repo)))
repo.write(".gitignore", ".env\n.env.*\n!.env.example\n")
repo.write(
    ".pre-commit-config.yaml",
    "repos:\n  - repo: local\n    hooks:\n      - id: detect-secrets\n"
    "        name: detect-secrets against the baseline\n"
    "        entry: detect-secrets-hook --baseline .secrets.baseline\n"
    "        language: system\n",
)
repo.commit("Add the secrets baseline and hooks", add_all=True)
hook = install_scan_hook(repo)
print(hook.read_text().splitlines()[-1])

# %% [markdown]
# The git hook runs that command on the staged files before every commit. Now someone adds
# an AWS key to a settings file:

# %%
import re

repo.write("settings.py", f'AWS_ACCESS_KEY_ID = "{fake_key("aws", seed=seed)}"\n')
repo.git("add", "settings.py")
attempt = repo.run("git", "commit", "-m", "Add deployment settings", ok=(0, 1))
print("exit code:", attempt.returncode)
hook_says = re.sub(r"\x1b\[[0-9;]*m", "", attempt.output)  # without the terminal colours
print("\n".join(hook_says.splitlines()[:4]))
print("commit made:", "Add deployment settings" in repo.log())

# %% [markdown]
# The hook names the file and the kind of secret, not the secret. But `git commit
# --no-verify` skips it, so CI runs the same scan again. Unstage the file:

# %%
repo.git("rm", "-q", "--cached", "settings.py")
repo.file("settings.py").unlink()

# %% [markdown]
# **The course does the same**: an empty baseline, the hook in `.pre-commit-config.yaml`,
# and `tests/test_quality.py` scanning every tracked file, stored notebooks included. That
# is why this lesson's keys are built at run time and never printed whole.

# %%
import json

course = course_repository()
if course is None:
    print("course_lib is installed as a package: no course repository to show.")
else:
    baseline = json.loads((course / ".secrets.baseline").read_text(encoding="utf-8"))
    print("findings in .secrets.baseline:", len(baseline["results"]))
    config = (course / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    print("pre-commit runs:", [ln.strip() for ln in config.splitlines() if "secrets-hook" in ln])
    tests = (course / "tests" / "test_quality.py").read_text(encoding="utf-8")
    print("test_quality.py:", re.findall(r"def (test_no_new_secrets\w*)", tests))
    print("it lists files with git ls-files:", '"ls-files"' in tests)
    ignored = (course / ".gitignore").read_text(encoding="utf-8").splitlines()
    print(".gitignore covers:", [p for p in (".env", ".env.*", "!.env.example") if p in ignored])

# %% [markdown]
# ## 5. Where the key lives instead
#
# The key belongs outside the code, in one of three places, tried in this order: an
# **environment variable** (`HANDBOOK_API_KEY`) set by the shell, CI or the platform; a
# **`.env` file** for local development, ignored by git; the **operating system's
# keyring**, through the `keyring` package. The scratch repository gets a `.env`:

# %%
from course_lib.labs import KEY_VARIABLE, KEYRING_SERVICE, KEYRING_USER, file_keyring

repo.write(".env", f"{KEY_VARIABLE}={key}\n")
print("git status sees:", repr(repo.git("status", "--short")))

# %% [markdown]
# ### A value that never prints
#
# Objects end up in text: a repr, an error message, a log line. A pydantic `SecretStr`
# (lesson 3.3) prints as stars; the code that needs the key calls `.get_secret_value()`:

# %%
from pydantic import BaseModel, SecretStr


class Settings(BaseModel):
    endpoint: str = "https://llm.internal/v1"
    api_key: SecretStr


print(repr(Settings(api_key=key)))

# %% [markdown]
# ### Exercise 3.6.2: Load the key from three places
#
# Write `load_api_key(environ, env_file, vault)`: the key as a `SecretStr` from `environ`,
# else the `.env` file (`dotenv_values(env_file)`; the file may not exist), else
# `vault.get_password(KEYRING_SERVICE, KEYRING_USER)`; `None` when none has it. Stuck?
# `hint("3.6.2")`.


# %%
def load_api_key(environ, env_file, vault):
    """The endpoint key as a SecretStr: environment, then .env, then keyring; else None."""
    from pathlib import Path

    from dotenv import dotenv_values
    from pydantic import SecretStr

    from course_lib.labs import KEY_VARIABLE, KEYRING_SERVICE, KEYRING_USER

    # BEGIN SOLUTION
    value = environ.get(KEY_VARIABLE)
    if not value and Path(env_file).is_file():
        value = dotenv_values(env_file).get(KEY_VARIABLE)
    if not value:
        value = vault.get_password(KEYRING_SERVICE, KEYRING_USER)
    return SecretStr(value) if value else None
    # END SOLUTION


# %% [markdown]
# Try it with nothing in the environment, and a file keyring in the work directory (never
# your real one):

# %%
vault = file_keyring(work_path("lesson_3_6", "keyring", "keyring.cfg"))
stored = fake_key("openai", seed=seed + 1)
vault.set_password(KEYRING_SERVICE, KEYRING_USER, stored)
load, source = answer_or_reference("3.6.2", load_api_key), {key: ".env", stored: "the keyring"}
for env_file in (repo.file(".env"), repo.file("missing.env")):
    loaded = load({}, env_file, vault)
    value = loaded.get_secret_value() if loaded else None
    print(f"{env_file.name:12}", repr(loaded), "from", source.get(value))

# %% [markdown]
# The checker tries its own cases, from all three places set to none:

# %%
check("3.6.2", load_api_key)

# %% [markdown]
# ## 6. Redaction in logs and traces
#
# Logs also receive text you do not control: an error page quoting the `Authorization`
# header, a connection string. The course redacts logs and traces (`course_lib.redaction`):
# keys passed to `register_secret`, auth headers, `Bearer` tokens, `sk-` keys and URL
# passwords:

# %%
import logging
import sys

from course_lib.redaction import get_logger, redact

log = get_logger("lesson_3_6.gateway")
handler = logging.StreamHandler(sys.stdout)
log.addHandler(handler)
log.warning("upstream refused: Authorization: Bearer %s", key)
log.removeHandler(handler)

# %% [markdown]
# `log_lines("visible")` holds log lines with keys of five providers, a `Bearer` header, a
# database URL and an `api_key=` field, and **near-misses** that must survive: commit ids,
# UUIDs, digests, trace and span ids. `score_redactor` counts secrets removed and
# near-misses mangled, for `redact` and two rules by shape:

# %%
from course_lib.labs import log_lines, score_redactor

lines = log_lines("visible", seed=seed)
redactors = {
    "no redaction": lambda s: s,
    "course redact()": redact,
    "any [A-Za-z0-9]{32,}": lambda s: re.sub(r"[A-Za-z0-9]{32,}", "[redacted]", s),
    "20+, a capital and a digit": lambda s: re.sub(
        r"\b(?=[\w-]*[A-Z])(?=[\w-]*\d)[\w-]{20,}", "[redacted]", s
    ),
}
print(
    pd.DataFrame(
        [score_redactor(f, lines).as_dict() for f in redactors.values()], index=list(redactors)
    )
)
families = dict.fromkeys(ln.kind for ln in lines if ln.secrets)


def missed(redactor, kind):
    score = score_redactor(redactor, [ln for ln in lines if ln.kind == kind])
    return score.secrets - score.removed


names = ["course redact()", "any [A-Za-z0-9]{32,}"]
print("secrets missed, by family:")
print(pd.DataFrame({k: [missed(redactors[n], k) for n in names] for k in families}, index=names))

# %% [markdown]
# `redact` mangles nothing but knows only OpenAI's prefix: 8 GitHub, AWS, Slack and Stripe
# keys pass. `[A-Za-z0-9]{32,}` removes 2 of 13 and mangles 4 near-misses; "20+, a capital
# and a digit" removes 11 but mangles 6. A service whose logs quote keys it never registered
# needs provider patterns.
#
# ### Exercise 3.6.3 (open-ended): A redactor for log lines
#
# `redact_line(line)` already handles `Bearer` tokens, URL passwords and OpenAI keys. Add one
# pattern per family, from the documented formats (pages in Further reading), each whole
# family, not only the format the visible lines show:
#
# - GitHub: `ghp_`, `gho_`, `ghu_`, `ghs_` or `ghr_`, then 36 letters and digits;
# - AWS access key ids: `AKIA` (long-term) or `ASIA` (temporary), then 16 capitals and digits;
# - Slack: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-` and kin, then digits, letters and dashes;
# - Stripe: `sk_` (secret) or `rk_` (restricted), `live_` or `test_`, then 16+ characters.
#
# Tune on the visible lines. The checker measures **held-out** lines: other formats, other
# wording, new near-misses; a failure never gives a count. **Target:** at least 90% of
# secrets removed, no near-miss mangled. Stuck? `hint("3.6.3")`.
#
# Some visible lines, keys cut to six characters:

# %%
for line in [lines[i] for i in (0, 1, 2, 3, 4, 10, 13, 19)]:
    text = line.text
    for secret in line.secrets:
        text = text.replace(secret, shown(secret))
    print(text)


# %%
def redact_line(line):
    """`line` with keys and tokens replaced by [redacted]; ids and hashes left intact."""
    import re

    patterns = [
        r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}",  # any Bearer token
        r"(?<=://)(?:[^/\s:@]*):[^/\s@]+(?=@)",  # user:password in a URL
        r"\bsk-(?:proj-)?[A-Za-z0-9]{20,}",  # OpenAI: older keys and project keys
    ]
    # BEGIN SOLUTION
    patterns += [
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b",  # GitHub tokens
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",  # AWS access key ids
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
        r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe keys
    ]
    # END SOLUTION
    # STUB: patterns += []  # add GitHub, AWS, Slack and Stripe patterns here
    for pattern in patterns:
        line = re.sub(pattern, "[redacted]", line)
    return line


# %% [markdown]
# Your redactor's score on the visible lines (run it after each change):

# %%
print(score_redactor(redact_line, lines).as_dict())

# %% [markdown]
# When you are happy with it, measure it on the held-out lines:

# %%
check("3.6.3", redact_line)

# %% [markdown]
# ## Takeaways
#
# - A committed key stays in the history: scan the history, not only the tree.
# - After a leak, rotate first; rewriting history cleans the repository, not the copies.
# - A baseline and a pre-commit hook stop the next leak; CI repeats the scan.
# - Keys live in the environment, an ignored `.env` or a keyring, and travel as `SecretStr`.
# - Redact every text exit with provider patterns that spare ids.
#
# ## Production checklist
#
# - A secret scan runs before each commit and in CI, against a reviewed baseline.
# - `.env` is ignored; keys are `SecretStr` from load to use.
# - Logs, errors and spans pass through one redaction function.
# - A leak runbook exists; each key has an owner, a narrow scope and an expiry.
# - Production keys come from a secret manager.
#
# ## Check your understanding
#
# 1. The working-tree scan finds nothing and the history scan finds a key. Which matters, and
#    why?
# 2. Why rotate the key before rewriting history, not after?
# 3. After `git filter-repo`, why can a teammate's old clone put the key back?
# 4. A pre-commit hook blocks secrets. Why does the course also scan in its test command?
# 5. Why is a redaction pattern like `[A-Za-z0-9]{32,}` a bad idea in logs?
#
# <details>
# <summary>Short answers</summary>
#
# 1. The history: every clone holds every commit.
# 2. Rewriting cannot reach copies already pulled or logged; only revoking makes them
#    harmless.
# 3. It still has the old commits; `git pull --no-rebase` or a push merges them back.
# 4. `git commit --no-verify` skips hooks, and not everyone installs them.
# 5. It mangled 4 near-misses, ids an incident needs, and removed only 2 of
#    13 secrets: AWS keys are 20 characters, and `-` or `_` split the others.
#
# </details>
#
# ## Further reading
#
# - Yelp, detect-secrets (https://github.com/Yelp/detect-secrets): plugins, filters and the
#   baseline workflow.
# - git-filter-repo (https://github.com/newren/git-filter-repo), and GitHub's "Removing
#   sensitive data from a repository"
#   (https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/removing-sensitive-data-from-a-repository).
# - Pydantic, secret types (https://docs.pydantic.dev/latest/api/types/#pydantic.types.SecretStr).
# - keyring (https://pypi.org/project/keyring/) and keyrings.alt
#   (https://pypi.org/project/keyrings.alt/).
# - Provider key formats: GitHub, "Authentication token format updates"
#   (https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available/);
#   AWS, "IAM identifiers", unique ID prefixes
#   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html);
#   Slack, "Tokens" (https://docs.slack.dev/authentication/tokens); Stripe, "API keys"
#   (https://docs.stripe.com/keys).
# - OWASP Secrets Management Cheat Sheet
#   (https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html).
#
# **Next:** lesson 3.7, dependencies.
