"""Load many task YAMLs with SkyPilot's own loader, in one process.

python3 validate_many.py ITEMS.json  (ITEMS: [{"file": "/abs.yaml", "env": [[K, V]], "secrets": [[K, V]]}])
Prints one JSON line per item: {"ok": true, "kind": "task|chain|job-group"} or
{"ok": false, "error": "<ExceptionType>: <message>"}.

The same calls as real-sky's `validate-yaml`: a job-group YAML with
dag_utils.load_job_group_from_yaml, anything else with dag_utils.load_chain_dag_from_yaml and,
for a single task without overrides, sky.Task.from_yaml as well. One Python start-up for the
whole batch instead of one per file (~4.5 s each).
"""
import contextlib
import io
import json
import sys


def validate(item):
    import sky  # pylint: disable=import-outside-toplevel
    from sky.utils import dag_utils  # pylint: disable=import-outside-toplevel
    path = item['file']
    env_o = [tuple(p) for p in item.get('env') or []]
    sec_o = [tuple(p) for p in item.get('secrets') or []]
    kind = None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if dag_utils.is_job_group_yaml(path):
                dag_utils.load_job_group_from_yaml(path, env_overrides=env_o or None,
                                                   secrets_overrides=sec_o or None)
                kind = 'job-group'
            else:
                tasks = dag_utils.load_chain_dag_from_yaml(path, env_overrides=env_o or None,
                                                           secret_overrides=sec_o or None).tasks
                kind = 'chain' if len(tasks) > 1 else 'task'
                if len(tasks) == 1 and not env_o and not sec_o:
                    sky.Task.from_yaml(path)
        return {'ok': True, 'kind': kind}
    except BaseException as e:  # pylint: disable=broad-except
        return {'ok': False, 'kind': kind, 'error': f'{type(e).__name__}: {e}'}


def main(path):
    with open(path, encoding='utf-8') as f:
        items = json.load(f)
    for item in items:
        print(json.dumps(validate(item)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
