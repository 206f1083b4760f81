Feature: Time, retries and timeouts
  Our own scenarios for wait, timeout and retry.

  Scenario: Wait pauses then continues with the same data
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: wait
      version: '1.0.0'
    do:
      - pause:
          wait: PT0.1S
      - after:
          set:
            waited: true
            kept: ${ .kept }
    """
    And given the workflow input is:
    """yaml
    kept: yes
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    waited: true
    kept: yes
    """

  Scenario: A task timeout faults with the standard timeout error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: task-timeout
      version: '1.0.0'
    do:
      - tooSlow:
          wait: PT30S
          timeout:
            after: PT0.1S
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout
    status: 408
    instance: /do/0/tooSlow
    """

  Scenario: Retry a failing HTTP call, then fall back
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: retry
      version: '1.0.0'
    do:
      - guarded:
          try:
            - getMissingPet:
                call: http
                with:
                  method: get
                  endpoint: https://petstore.swagger.io/v2/pet/404
          catch:
            errors:
              with:
                type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
                status: 404
            as: failure
            retry:
              delay: PT0.05S
              backoff:
                linear: {}
              limit:
                attempt:
                  count: 2
            do:
              - fallback:
                  set:
                    fallback: true
                    lastStatus: ${ $failure.status }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    fallback: true
    lastStatus: 404
    """
    And getMissingPet should have run 3 times
    And getMissingPet should have faulted

  Scenario: The workflow timeout bounds the whole execution
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: workflow-timeout
      version: '1.0.0'
    timeout:
      after:
        milliseconds: 100
    do:
      - forever:
          wait: PT1H
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout
    status: 408
    """
    And forever should have cancelled
