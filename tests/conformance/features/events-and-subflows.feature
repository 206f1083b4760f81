Feature: Events, sub-workflows, processes and lifecycle events
  Our own scenarios for listen, emit, run and the lifecycle events.

  Scenario: Listen for one event among others and read its data
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listen-one
      version: '1.0.0'
    do:
      - waitForHighTemperature:
          listen:
            to:
              one:
                with:
                  type: com.example.temperature
                  data: ${ .celsius > 38 }
    """
    And given the events are:
    """yaml
    - { specversion: '1.0', id: '1', source: /sensor, type: com.example.temperature, data: { celsius: 36 } }
    - { specversion: '1.0', id: '2', source: /sensor, type: com.example.other, data: { celsius: 40 } }
    - { specversion: '1.0', id: '3', source: /sensor, type: com.example.temperature, data: { celsius: 39 } }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    - celsius: 39
    """

  Scenario: Listen to all events, correlated on data
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listen-all
      version: '1.0.0'
    do:
      - orderAndPayment:
          listen:
            to:
              all:
                - with:
                    type: com.example.order.placed
                  correlate:
                    order:
                      from: .data.orderId
                - with:
                    type: com.example.payment.received
                  correlate:
                    order:
                      from: .data.orderId
            read: envelope
          output:
            as: 'map(.id)'
    """
    And given the events are:
    """yaml
    - { specversion: '1.0', id: o1, source: /shop, type: com.example.order.placed, data: { orderId: 7 } }
    - { specversion: '1.0', id: p-other, source: /bank, type: com.example.payment.received, data: { orderId: 8 } }
    - { specversion: '1.0', id: p1, source: /bank, type: com.example.payment.received, data: { orderId: 7 } }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    [ o1, p1 ]
    """

  Scenario: An emitted event wakes a listening branch
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: emit-listen
      version: '1.0.0'
    do:
      - pingPong:
          fork:
            branches:
              - listener:
                  listen:
                    to:
                      one:
                        with:
                          type: com.example.ping
              - emitter:
                  do:
                    - settle:
                        wait: PT0.05S
                    - ping:
                        emit:
                          event:
                            with:
                              source: https://example.com/pinger
                              type: com.example.ping
                              data:
                                n: 1
          output:
            as: .[0][0]
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    n: 1
    """

  Scenario: Run another workflow and use its output
    Given another workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: double
      version: '1.0.0'
    do:
      - twice:
          set:
            value: ${ .value * 2 }
    """
    And given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: parent
      version: '1.0.0'
    do:
      - callChild:
          run:
            workflow:
              namespace: default
              name: double
              version: latest
              input:
                value: ${ .n }
    """
    And given the workflow input is:
    """yaml
    n: 21
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    value: 42
    """

  Scenario: Run a shell command with arguments and stdin
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: shell
      version: '1.0.0'
    do:
      - greet:
          run:
            shell:
              command: 'read who; echo "$1, $who"'
              arguments: [ Hello ]
              stdin: ${ .name }
    """
    And given the workflow input is:
    """yaml
    name: Ada
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    Hello, Ada
    """

  Scenario: Lifecycle events describe the workflow and each task
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle
      version: '1.0.0'
    do:
      - first:
          set:
            a: 1
      - boom:
          raise:
            error:
              type: https://example.com/errors/boom
              status: 500
    """
    When the workflow is executed
    Then the workflow should fault
    And the lifecycle events should include, in order:
    """yaml
    - type: io.serverlessworkflow.workflow.started.v1
    - type: io.serverlessworkflow.task.created.v1
      task: /do/0/first
    - type: io.serverlessworkflow.task.started.v1
      task: /do/0/first
    - type: io.serverlessworkflow.task.completed.v1
      task: /do/0/first
    - type: io.serverlessworkflow.task.started.v1
      task: /do/1/boom
    - type: io.serverlessworkflow.task.faulted.v1
      task: /do/1/boom
    - type: io.serverlessworkflow.workflow.faulted.v1
    """
