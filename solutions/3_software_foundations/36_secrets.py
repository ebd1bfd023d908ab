# %% [markdown]
# # 3.6 Secrets and credentials
#
# The Handbook Assistant calls a model endpoint with an API key. The tutorial way to try an
# endpoint is to paste the key into a notebook cell, and the first commit of that notebook
# publishes it. Deleting the line in the next commit does not take it back: git keeps every
# version of every file.
#
# Here a key leaks into a throwaway repository. You find it with detect-secrets, rewrite the
# history with `git filter-repo` and block the next leak with a hook. Then you keep the key
# outside the code and make sure it never prints.
#
# **Time:** about 50 minutes: 11 to read, 8 to run the code and read its outputs, 27 for
# the three exercises (7, 7 and 13), 4 for the questions. **You need:** git basics (lesson
# 3.1 helps).
#
# ## Learning objectives
# - Scan a repository's working tree and its history with detect-secrets, and explain why
#   they differ.
# - Answer a leak in the right order: rotate the key, then rewrite history, then re-clone.
# - Block a new secret at commit time with a baseline and a pre-commit hook.
# - Load a key from the environment, a `.env` file or a keyring, as a value that never prints.
# - Redact keys in log lines without destroying the ids you debug with.
#
# Every key in this lesson is fake, built at run time in a real provider's format, and shown
# only by its first six characters.

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
# **detect-secrets** (Yelp) runs detectors over each line: patterns for known providers'
# formats (AWS, GitHub, OpenAI, Slack, Stripe...), entropy checks for random-looking strings,
# and a keyword detector for assignments such as `password = ...`. Filters then drop likely
# false positives. `detect-secrets scan` scans the files git tracks, as they are now:

# %%
tree = scan_tree(repo)
print(repo.transcript(last=1))
print(f"findings in the working tree: {len(tree)}")

# %% [markdown]
# Nothing. But every clone holds every commit. `scan_history` runs the same detectors over
# each file that each commit added or changed, on every branch:

# %%
history = pd.DataFrame(scan_history(repo))
print(f"findings in the history: {len(history)}")
history

# %% [markdown]
# Two rows, one leak: the OpenAI pattern and the entropy check both flag the same key, in the
# same (commit, file) pair. A key that a later commit deleted is as public as one still in the
# tree: anyone with a clone runs `git show <commit>:explore.ipynb`.
#
# ### Exercise 3.6.1: A history scan
#
# Write `secrets_in_history(repo)`: the set of `(short commit id, file path)` pairs where a
# commit, on any branch, adds or changes a file that holds a secret. Three `repo.git(...)`
# calls do it: `rev-list --all` lists the commits; `diff-tree --root -r --no-commit-id
# --name-only --diff-filter=AM <commit>` lists the files a commit added or modified (the
# first commit included); `show <commit>:<path>` gives a file as that commit stored it.
# `scan_text(text, path)` lists what detect-secrets finds in a text. A fourth call,
# `rev-parse --short <commit>`, shortens the id (full ids are accepted too). Write your own
# loop, not a call to `scan_history`. One pair per (commit, file), however many detectors
# fire. Stuck? `hint("3.6.1")`.


# %%
def secrets_in_history(repo):
    """{(short commit id, path)} for each commit that adds or changes a file holding a secret."""
    from course_lib.labs import scan_text

    found = set()
    # BEGIN SOLUTION
    for commit in repo.git("rev-list", "--all").split():
        changed = repo.git(
            "diff-tree", "--root", "-r", "--no-commit-id", "--name-only", "--diff-filter=AM", commit
        )
        for path in changed.splitlines():
            if scan_text(repo.git("show", f"{commit}:{path}"), path):
                found.add((repo.git("rev-parse", "--short", commit).strip(), path))
    # END SOLUTION
    return found


# %% [markdown]
# The checker builds a repository of its own, with keys on a side branch and in the first
# commit:

# %%
check("3.6.1", secrets_in_history)

# %% [markdown]
# ## 3. After a leak: rotate first, then rewrite history
#
# Rewriting history does not un-publish a key: it was pushed, a teammate pulled it, a CI
# log or a search engine may hold it. So the order is fixed:
#
# 1. **Rotate**: create a new key at the provider, deploy it, revoke the old one. From this
#    moment the leaked key is worthless, whatever copies exist.
# 2. **Check the provider's logs** for use of the old key between the leak and the revocation.
# 3. **Rewrite history**, so the dead key stops tripping scanners and stops showing readers
#    a bad example.
# 4. **Make every clone start over**: each teammate deletes their clone and clones again.
# 5. **Block the next one** (section 4), and write down what happened.
#
# A teammate cloned the repository before the clean-up:

# %%
from course_lib.labs import clone_of

teammate = clone_of(repo, "teammate")
before = repo.log()

# %% [markdown]
# `git filter-repo --replace-text` rewrites every commit, replacing what matches each line of
# an expressions file. The file lives outside the repository, and a regular expression
# describes the key without writing it down:

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
# The first commit keeps its id; the leaky commit and every commit after it get new ids,
# because a commit's id is a hash of its content and its parent's id. (`--force` is needed
# because filter-repo refuses to rewrite anything but a fresh clone; `--invert-paths --path
# explore.ipynb` would delete the file from every commit instead.) Scan both repositories:

# %%
my_scan = answer_or_reference("3.6.1", secrets_in_history)
print(f"history scan after filter-repo: {len(scan_history(repo))} findings")
print(f"the teammate's clone: {len(scan_history(teammate))} findings")
print("(commit, file) pairs there:", sorted(my_scan(teammate)))
print("the clone's commits exist upstream:", teammate.head() in repo.log())

# %% [markdown]
# The rewritten repository is clean; the clone still holds the key, under commit ids the
# rewritten repository no longer has. A `git pull --no-rebase`, or a push from that clone,
# would merge the old history back, key included. So every clone must be deleted and cloned
# again. A hosting service keeps
# copies too: on GitHub, old commits stay reachable by id (pull-request refs, cached views)
# until its support purges them (see GitHub's guide in Further reading). Rotation comes first
# because you cannot reach every copy.

# %% [markdown]
# ## 4. Block the next one: a baseline and a pre-commit hook
#
# A scanner on a real project finds things that are not secrets (test fixtures, hashes in a
# lock file). A **baseline** records the findings the team has reviewed; the check then fails
# only on new ones. Save the scan as `.secrets.baseline`, ignore `.env` files, add a
# pre-commit configuration (a `repo: local` hook, `language: system`, so nothing is fetched;
# the course's own entry calls `.venv/bin/detect-secrets-hook`), and commit:

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
# The git hook runs `detect-secrets-hook --baseline .secrets.baseline` on the staged files
# before every commit; `pre-commit run` runs the same command from the configuration. Now
# someone adds an AWS key to a settings file:

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
# Blocked: the commit never happened, and the hook names the file and the kind of secret,
# not the secret. (Unstage the file and the tree is as before.) A hook is a seat belt, not a
# guarantee: `git commit --no-verify` skips it, which is why CI runs the same scan again.

# %%
repo.git("rm", "-q", "--cached", "settings.py")
repo.file("settings.py").unlink()

# %% [markdown]
# **The course does the same.** Its `.secrets.baseline` lists no finding. Its
# `.pre-commit-config.yaml` runs the detect-secrets hook. Its `tests/test_quality.py` runs the
# same hook over every file `git ls-files` lists, stored notebooks included, so CI fails even
# when a hook was skipped. That is why this lesson's keys are built at run time and never
# printed whole.

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
# The key belongs outside the code, in one of three places, tried in this order:
#
# - an **environment variable** (`HANDBOOK_API_KEY`), set by the shell, the CI runner or the
#   container platform's secret store;
# - a **`.env` file** for local development, next to the code but ignored by git;
# - the **operating system's keyring** (macOS Keychain, Windows Credential Locker, the
#   Secret Service on Linux), which the `keyring` package reads and writes.
#
# The scratch repository gets a `.env`, ignored by the rule committed above:

# %%
from course_lib.labs import KEY_VARIABLE, KEYRING_SERVICE, KEYRING_USER, file_keyring

repo.write(".env", f"{KEY_VARIABLE}={key}\n")
print("git status sees:", repr(repo.git("status", "--short")))

# %% [markdown]
# ### A value that never prints
#
# Once loaded, the key travels inside a settings object, and objects end up in text: a repr
# in a notebook, an error message, a log line. Typed as a pydantic `SecretStr` (lesson 3.3),
# it prints as stars; the code that needs it calls `.get_secret_value()`, once, at the call:

# %%
from pydantic import BaseModel, SecretStr


class Settings(BaseModel):
    endpoint: str = "https://llm.internal/v1"
    api_key: SecretStr


print(repr(Settings(api_key=key)))

# %% [markdown]
# ### Exercise 3.6.2: Load the key from three places
#
# Write `load_api_key(environ, env_file, vault)`: the key as a `SecretStr`, from the
# environment mapping `environ` (name `HANDBOOK_API_KEY`) if set there, else from the `.env`
# file at `env_file` (which may not exist), else from the keyring object `vault`
# (`vault.get_password("handbook-assistant", "api_key")`); `None` when none has it.
# `dotenv_values` (from `dotenv`) parses a `.env` file as shells do. Stuck? `hint("3.6.2")`.


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
# Try it with nothing in the environment. The keyring here is `keyrings.alt`'s file backend,
# in the course work directory, so your real keyring is never touched:

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
# The checker tries seven cases: each place alone, all three, a quoted value, a missing file:

# %%
check("3.6.2", load_api_key)

# %% [markdown]
# ## 6. Redaction in logs and traces
#
# `SecretStr` protects the values you know about. Logs also receive text you do not control:
# an endpoint's error page that quotes the `Authorization` header, a connection string, a
# config dump. The course redacts such text at every exit, logs and exported traces
# (`course_lib.redaction`): the keys it was told about (`register_secret`),
# `Authorization`/`api-key` headers, `Bearer` tokens, `sk-` keys and passwords in URLs:

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
# How much does it catch? `log_lines("visible")` holds log lines of the assistant's services
# with keys of five providers, a `Bearer` header, a database URL and an `api_key=` field.
# It also holds **near-misses** that must survive: commit ids, request UUIDs, SHA-256
# digests, long words, and mixed-case trace, span and index ids. `score_redactor` counts
# secrets removed (no 8 characters of one left in a row) and near-misses mangled. Beside
# the course's `redact`, two rules by shape:

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
# The course's patterns mangle nothing, but of the five providers they know only OpenAI's
# prefix: 8 GitHub, AWS, Slack and Stripe keys pass, unless a `Bearer` header, a URL or an
# `api_key=` field frames them. The rules by shape destroy ids: `[A-Za-z0-9]{32,}` removes
# 2 of 13 secrets and takes 4 commit ids and digests; "20+ characters with a capital and a
# digit" removes 11 but takes 6 trace, span and index ids.
#
# `register_secret` can't help: these logs quote keys the process never held. The course
# does without provider patterns on purpose: it holds one key, its endpoint's, and registers
# it when it builds a client. A service whose logs quote other keys needs them.
#
# ### Exercise 3.6.3 (open-ended): A redactor for log lines
#
# Complete `redact_line(line)`: the line with every key and token replaced by `[redacted]`.
# It already handles the generic shapes (a `Bearer` token, a password in a URL); add one
# pattern per provider family, from its documented formats: OpenAI's older keys are `sk-`
# without `proj-`; GitHub, AWS (unique ID prefixes), Slack and Stripe list theirs on the
# pages in Further reading. Tune on the visible lines as often as you like. The checker
# measures **held-out** lines: the other formats, other wording around each key, other
# spellings of the header, new near-misses. It answers pass or "not yet", never a count, so
# you cannot tune on them. Use your own patterns, not `course_lib.redaction`. Stuck?
# `hint("3.6.3")`.
#
# **Target on held-out:** at least 90% of secrets removed and no near-miss mangled.
#
# Some of the visible lines, each key cut to its first six characters:

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
    ]
    # BEGIN SOLUTION
    patterns += [
        r"\bsk-(?:proj-)?[A-Za-z0-9]{20,}",  # OpenAI, old and project keys
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b",  # GitHub tokens
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",  # AWS access key ids
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
        r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe keys
    ]
    # END SOLUTION
    for pattern in patterns:
        line = re.sub(pattern, "[redacted]", line)
    return line


# %% [markdown]
# Your redactor's score on the visible lines (run it after each change):

# %%
try:
    print(score_redactor(redact_line, lines).as_dict())
except NotImplementedError:
    print("redact_line is not written yet.")

# %% [markdown]
# When you are happy with it, measure it on the held-out lines:

# %%
check("3.6.3", redact_line)

# %% [markdown]
# ## Takeaways
#
# - A committed key is in the history for good: scan the history, not only the tree.
# - After a leak, rotate first. Rewriting history cleans the repository, not the copies.
# - `git filter-repo` changes the id of every commit from the leak on; every clone must be
#   replaced.
# - A baseline and a pre-commit hook stop the next leak at the commit; CI runs the same scan,
#   because hooks can be skipped.
# - Keys live in the environment, an ignored `.env` or a keyring, and travel as `SecretStr`.
# - Redact every text exit (logs, errors, spans) with provider patterns that spare ids.
#
# ## Production checklist
#
# - Does a secret scan run before each commit and again in CI, against a reviewed baseline?
# - Is `.env` in `.gitignore`, and are keys typed `SecretStr` from load to use?
# - Do logs, errors and exported spans pass through one redaction function?
# - Is there a leak runbook (rotate, check usage, rewrite, re-clone), and does each key have
#   an owner, a narrow scope and an expiry?
# - In production, do keys come from a secret manager (Vault, a cloud's secret manager)?
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
# 1. The history: every clone holds every commit, so the key is as public as the repository.
# 2. Rewriting cannot reach copies already pulled, cached or logged; only revoking the key
#    makes them harmless, and every minute before it counts.
# 3. The clone still has the old commits; a merging pull (`git pull --no-rebase`) or a push
#    from it joins the old history to the new one. Delete the clone and clone again.
# 4. `git commit --no-verify` skips hooks, and not everyone installs them; CI cannot be
#    skipped.
# 5. On the visible lines it takes 4 commit ids and digests, the clues an incident needs,
#    and removes only 2 of 13 secrets: AWS keys are 20 characters, and `-` or `_` cut the
#    other keys into short runs or leave their prefix behind.
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
