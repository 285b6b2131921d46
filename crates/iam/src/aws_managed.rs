//! A few AWS managed policies (`arn:aws:iam::aws:policy/…`) that applications and templates
//! attach, so attaching them works as on AWS. Their documents are abbreviated to the actions'
//! service wildcards (AdministratorAccess and AWSLambdaBasicExecutionRole are exact).

use ruststack_core::Timestamp;

pub struct AwsPolicy {
    pub name: &'static str,
    pub path: &'static str,
    pub document: &'static str,
}

macro_rules! allow {
    ($actions:literal) => {
        concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"#,
            $actions,
            r#","Resource":"*"}]}"#
        )
    };
}

pub const POLICIES: &[AwsPolicy] = &[
    AwsPolicy { name: "AdministratorAccess", path: "/", document: allow!(r#""*""#) },
    AwsPolicy { name: "PowerUserAccess", path: "/", document: allow!(r#""*""#) },
    AwsPolicy {
        name: "ReadOnlyAccess",
        path: "/",
        document: allow!(
            r#"["s3:Get*","s3:List*","dynamodb:Describe*","dynamodb:Get*","dynamodb:Query","dynamodb:Scan","iam:Get*","iam:List*","logs:Describe*","logs:Get*","ssm:Describe*","ssm:Get*"]"#
        ),
    },
    AwsPolicy { name: "IAMFullAccess", path: "/", document: allow!(r#""iam:*""#) },
    AwsPolicy { name: "AmazonS3FullAccess", path: "/", document: allow!(r#"["s3:*","s3-object-lambda:*"]"#) },
    AwsPolicy {
        name: "AmazonS3ReadOnlyAccess",
        path: "/",
        document: allow!(r#"["s3:Get*","s3:List*","s3:Describe*"]"#),
    },
    AwsPolicy { name: "AmazonDynamoDBFullAccess", path: "/", document: allow!(r#""dynamodb:*""#) },
    AwsPolicy {
        name: "AmazonDynamoDBReadOnlyAccess",
        path: "/",
        document: allow!(
            r#"["dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:List*","dynamodb:GetItem","dynamodb:Query","dynamodb:Scan"]"#
        ),
    },
    AwsPolicy { name: "AmazonSQSFullAccess", path: "/", document: allow!(r#""sqs:*""#) },
    AwsPolicy { name: "AmazonSNSFullAccess", path: "/", document: allow!(r#""sns:*""#) },
    AwsPolicy {
        name: "CloudWatchLogsFullAccess",
        path: "/",
        document: allow!(r#"["logs:*","cloudwatch:GenerateQuery"]"#),
    },
    AwsPolicy { name: "SecretsManagerReadWrite", path: "/", document: allow!(r#""secretsmanager:*""#) },
    AwsPolicy { name: "AmazonSSMFullAccess", path: "/", document: allow!(r#""ssm:*""#) },
    AwsPolicy {
        name: "AmazonSSMReadOnlyAccess",
        path: "/",
        document: allow!(r#"["ssm:Describe*","ssm:Get*","ssm:List*"]"#),
    },
    AwsPolicy { name: "AWSLambda_FullAccess", path: "/", document: allow!(r#""lambda:*""#) },
    AwsPolicy {
        name: "AWSLambdaBasicExecutionRole",
        path: "/service-role/",
        document: allow!(r#"["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"]"#),
    },
    AwsPolicy {
        name: "AWSLambdaVPCAccessExecutionRole",
        path: "/service-role/",
        document: allow!(
            r#"["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","ec2:CreateNetworkInterface","ec2:DescribeNetworkInterfaces","ec2:DeleteNetworkInterface","ec2:AssignPrivateIpAddresses","ec2:UnassignPrivateIpAddresses"]"#
        ),
    },
    AwsPolicy {
        name: "AWSLambdaDynamoDBExecutionRole",
        path: "/service-role/",
        document: allow!(
            r#"["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"]"#
        ),
    },
    AwsPolicy {
        name: "AmazonEC2ContainerRegistryReadOnly",
        path: "/",
        document: allow!(
            r#"["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage"]"#
        ),
    },
];

/// When AWS managed policies were created (a fixed date, as on AWS).
pub const CREATED: Timestamp = Timestamp { millis: 1_423_247_986_000 };

impl AwsPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    /// A stable `ANPA…` id derived from the name.
    pub fn id(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut id = String::from("ANPA");
        for _ in 0..17 {
            for b in self.name.bytes() {
                h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
            id.push(ALPHABET[(h % 32) as usize] as char);
        }
        id
    }
}

pub fn find(arn: &str) -> Option<&'static AwsPolicy> {
    let rest = arn.strip_prefix("arn:aws:iam::aws:policy")?;
    POLICIES
        .iter()
        .find(|p| rest.len() == p.path.len() + p.name.len() && rest.starts_with(p.path) && rest.ends_with(p.name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_valid_and_arns_resolve() {
        for p in super::POLICIES {
            crate::policy_doc::validate(p.document, crate::policy_doc::Kind::Identity).unwrap();
            assert_eq!(super::find(&p.arn()).map(|f| f.name), Some(p.name));
            assert_eq!(p.id().len(), 21);
        }
        assert!(super::find("arn:aws:iam::aws:policy/Nope").is_none());
    }
}
