"""``make synth``: synthesize into cdk.out and say where the template is."""

from infra.app import STACK_NAME, main

if __name__ == "__main__":
    main()
    print(f"wrote cdk.out/{STACK_NAME}.template.json")  # noqa: T201
