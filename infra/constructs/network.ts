import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  readonly stage: string;
  readonly logsKey: kms.IKey;
}

/**
 * Optional VPC mode (`-c vpc=true`, on for production): Lambdas in private isolated subnets
 * (no NAT, no internet), reaching AWS only through endpoints: gateway endpoints for S3 and
 * DynamoDB, interface endpoints for KMS, Step Functions, Scheduler, SNS, Logs, X-Ray, Cognito
 * and API Gateway (partner onboarding). Flow logs record every accepted and rejected flow.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Security group of the functions (egress only). */
  public readonly functionSecurityGroup: ec2.SecurityGroup;
  public readonly endpointSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      logGroupName: `/mdrp/${props.stage}/vpc-flow-logs`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      restrictDefaultSecurityGroup: true,
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
    });

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSg', {
      vpc: this.vpc,
      description: 'MDRP functions: egress to VPC endpoints only (isolated subnets have no route out)',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'MDRP interface endpoints: HTTPS from the functions only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, ec2.Port.tcp(443), 'HTTPS from MDRP functions');
    this.functionSecurityGroup.addEgressRule(this.endpointSecurityGroup, ec2.Port.tcp(443), 'HTTPS to interface endpoints');

    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    // Gateway endpoints are reached via region-specific prefix lists (unknown offline). HTTPS to any
    // address is safe here: isolated subnets have no route except the endpoints.
    this.functionSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to S3/DynamoDB gateway endpoints (no other route exists)');

    const interfaces: Array<[string, ec2.InterfaceVpcEndpointAwsService]> = [
      ['Kms', ec2.InterfaceVpcEndpointAwsService.KMS],
      ['StepFunctions', ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS],
      ['Scheduler', new ec2.InterfaceVpcEndpointAwsService('scheduler')],
      ['Sns', ec2.InterfaceVpcEndpointAwsService.SNS],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['XRay', ec2.InterfaceVpcEndpointAwsService.XRAY],
      ['CognitoIdp', ec2.InterfaceVpcEndpointAwsService.COGNITO_IDP],
      ['ApiGateway', ec2.InterfaceVpcEndpointAwsService.APIGATEWAY],
    ];
    for (const [name, service] of interfaces) {
      this.vpc.addInterfaceEndpoint(name, { service, privateDnsEnabled: true, securityGroups: [this.endpointSecurityGroup], open: false, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    }
  }
}
