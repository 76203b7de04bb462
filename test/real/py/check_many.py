"""Parse (never run) many `sky ...` command lines with the real SkyPilot click CLI, in one process.

python3 check_many.py ITEMS.json  (ITEMS: [{"argv": [...], "cwd": "/abs", "env": {"K": "V"}}])
Prints one JSON line per item: {"ok": true, "command": "sky launch"} or
{"ok": false, "exit": 2, "error": "<click's usage error, as the CLI prints it>"}.

Each line is parsed as real-sky's `check-cli` does (make_context, then resolve_command +
make_context down the groups, as click.Group.invoke does): every option and argument is
type-checked, click.Path(exists=True) against the item's cwd, option callbacks run (a bare
`--secret NAME` must be set in the item's env); no command body runs. One Python start-up for the
whole batch instead of one per line (~3.5 s each).
"""
import contextlib
import io
import json
import os
import sys

import click

from sky.client.cli import command


def parse(argv):
    cli = command.cli
    names = ['sky']
    ctx = cli.make_context('sky', list(argv))
    cmd = cli
    while isinstance(cmd, click.MultiCommand):
        if not ctx.protected_args:
            if cmd.invoke_without_command:
                break
            ctx.fail('Missing command.')
        args = [*ctx.protected_args, *ctx.args]
        ctx.args = []
        ctx.protected_args = []
        cmd_name, sub, rest = cmd.resolve_command(ctx, args)
        ctx.invoked_subcommand = cmd_name
        names.append(cmd_name)
        ctx = sub.make_context(cmd_name, rest, parent=ctx)
        cmd = sub
    return ' '.join(names)


def check(item):
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    os.environ.update(item.get('env') or {})
    os.chdir(item['cwd'])
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            name = parse(item['argv'])
        return {'ok': True, 'command': name}
    except click.ClickException as e:
        with contextlib.redirect_stderr(err):
            e.show()
        return {'ok': False, 'exit': e.exit_code, 'error': err.getvalue()}
    except click.exceptions.Exit as e:
        return {'ok': e.exit_code == 0, 'exit': e.exit_code, 'error': 'exited early'}
    except Exception as e:  # pylint: disable=broad-except
        return {'ok': False, 'exit': 1, 'error': f'{type(e).__name__}: {e}'}
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def main(path):
    with open(path, encoding='utf-8') as f:
        items = json.load(f)
    for item in items:
        print(json.dumps(check(item)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
