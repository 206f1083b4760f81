Feature: Data flow and control beyond the kit
  Our own scenarios for what the specification's kit does not exercise.

  Scenario: Export builds the context across tasks
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: export-context
      version: '1.0.0'
    do:
      - first:
          set:
            value: 1
          export:
            as: '$context + { first: .value }'
      - second:
          set:
            value: 2
          export:
            as: '$context + { second: .value }'
      - report:
          set:
            context: ${ $context }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    context:
      first: 1
      second: 2
    """

  Scenario: If skips a task and keeps the data
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: conditional
      version: '1.0.0'
    do:
      - onlyForAdults:
          if: .age >= 18
          set:
            adult: true
      - always:
          set:
            age: ${ .age }
            adult: ${ .adult // false }
    """
    And given the workflow input is:
    """yaml
    age: 12
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    age: 12
    adult: false
    """
    And onlyForAdults should not have run
    And onlyForAdults should have been skipped

  Scenario: Input schema rejects bad input with a validation error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: schema-in
      version: '1.0.0'
    input:
      schema:
        format: json
        document:
          type: object
          required: [ orderId ]
          properties:
            orderId:
              type: string
    do:
      - accept:
          set:
            ok: true
    """
    And given the workflow input is:
    """yaml
    orderId: 42
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/validation
    status: 400
    """

  Scenario: Task output schema is checked after output.as
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: schema-out
      version: '1.0.0'
    do:
      - compute:
          set:
            total: ${ .a + .b }
          output:
            as: .total
            schema:
              format: json
              document:
                type: integer
                maximum: 10
    """
    And given the workflow input is:
    """yaml
    a: 7
    b: 8
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/validation
    instance: /do/0/compute
    """

  Scenario: Fork without compete joins branch outputs in declaration order
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: fork-join
      version: '1.0.0'
    do:
      - parallel:
          fork:
            branches:
              - slow:
                  do:
                    - nap:
                        wait: PT0.2S
                    - mark:
                        set:
                          branch: slow
              - fast:
                  set:
                    branch: fast
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    - branch: slow
    - branch: fast
    """
    And fast should run before mark

  Scenario: Nested flow directives: exit leaves the inner do, a name jumps in the outer list
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: nested-directives
      version: '1.0.0'
    do:
      - outer:
          do:
            - a:
                set:
                  path: [ a ]
                then: exit
            - b:
                set:
                  path: [ never ]
          then: finish
      - skipped:
          set:
            path: [ never ]
      - finish:
          set:
            path: ${ .path + [ "finish" ] }
          then: end
      - afterEnd:
          set:
            path: [ never ]
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    path: [ a, finish ]
    """
    And skipped should not have run
    And b should not have run

  Scenario: Secrets are available to expressions
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: secrets
      version: '1.0.0'
    use:
      secrets: [ apiKey ]
    do:
      - useIt:
          input:
            from: '{ key: $secrets.apiKey }'
          set:
            header: ${ "Bearer " + .key }
    """
    And given the secrets are:
    """yaml
    apiKey: s3cr3t
    other: not-declared
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    header: Bearer s3cr3t
    """

  Scenario: Reading a declared secret that was not supplied faults with the authorization error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: missing-secret
      version: '1.0.0'
    use:
      secrets: [ apiKey, other ]
    do:
      - before:
          set:
            started: true
      - useIt:
          set:
            header: ${ "Bearer " + $secrets.apiKey }
    """
    And given the secrets are:
    """yaml
    other: x-other-value
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/authorization
    status: 403
    instance: /do/1/useIt
    detail: secret `apiKey` is declared in use.secrets, but no value was supplied for it
    """
    And before should have completed
    And useIt should have faulted

  Scenario: An authentication that uses a declared secret that was not supplied faults with the authorization error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: missing-auth-secret
      version: '1.0.0'
    use:
      secrets: [ petStoreCredentials ]
    do:
      - getPet:
          call: http
          with:
            method: get
            endpoint:
              uri: https://petstore.swagger.io/v2/pet/1
              authentication:
                basic:
                  use: petStoreCredentials
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/authorization
    status: 403
    instance: /do/0/getPet
    """
